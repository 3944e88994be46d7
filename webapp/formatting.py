"""Template filters that show money and points the way people read them."""

from __future__ import annotations

from babel.dates import format_date
from flask import Flask

from webapp import i18n
from webapp.catalogue import words_for
from webapp.domain.money import format_money
from webapp.domain.wording import format_points


def init_app(app: Flask) -> None:
    app.add_template_filter(
        lambda minor, currency="RUB": format_money(minor, currency, i18n.current()), "money")
    app.add_template_filter(lambda n: format_points(n, words_for(i18n.current())), "points")
    app.add_template_filter(lambda moment: format_date(moment, "d MMM", locale=i18n.current()),
                            "day")
