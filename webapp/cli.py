"""The ``regulars`` command: a Flask CLI group with the app factory behind it."""

from __future__ import annotations

from flask import Flask
from flask.cli import FlaskGroup


def main() -> None:
    """Entry point of the ``regulars`` console script."""
    from webapp.app import create_app

    cli = FlaskGroup(create_app=lambda: create_app(), help="Regulars loyalty platform.")
    cli.main(prog_name="regulars")


def register_commands(app: Flask) -> None:
    from webapp.commands import register

    register(app)
