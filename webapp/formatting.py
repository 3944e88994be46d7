"""Template filters that show money and points the way people read them."""

from __future__ import annotations

from flask import Flask

from webapp.domain.wording import format_money, format_points


def init_app(app: Flask) -> None:
    app.add_template_filter(lambda minor, currency="RUB": format_money(minor, currency, "ru"),
                            "money")
    app.add_template_filter(lambda n: format_points(n, "ru"), "points")
