"""The ``regulars`` command: a Flask CLI group with the app factory behind it."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup


def main() -> None:
    """Entry point of the ``regulars`` console script."""
    from webapp import config
    from webapp.app import create_app

    try:  # a wrong setting stops here with its name, not with a traceback
        config.load()
    except config.ConfigError as error:
        click.echo(f"Configuration error: {error}", err=True)
        sys.exit(2)
    cli = FlaskGroup(create_app=lambda: create_app(), help="Regulars loyalty platform.")
    cli.main(prog_name="regulars")


def register_commands(app: Flask) -> None:
    from webapp.commands import register

    register(app)


if __name__ == "__main__":  # `python -m webapp.cli`: how `regulars demo` starts its worker
    main()
