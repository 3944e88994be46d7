"""Template filters that show money and points the way people read them."""

from __future__ import annotations

from flask import Flask

from webapp.domain.wording import NNBSP, format_money, plural


def points(n: int) -> str:
    """ "1 250 баллов" """
    return f"{n:,}".replace(",", NNBSP) + " " + plural(n, "балл", "балла", "баллов")


def init_app(app: Flask) -> None:
    app.add_template_filter(lambda minor, currency="RUB": format_money(minor, currency, "ru"),
                            "money")
    app.add_template_filter(points, "points")
