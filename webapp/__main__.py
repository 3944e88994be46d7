"""The ``regulars`` command: a Flask CLI group over the app factory, with every command
of :mod:`webapp.cli` (``python -m webapp`` is the same; ``regulars demo`` starts its
worker that way)."""

from __future__ import annotations

import sys

import click
from flask import Flask


def main() -> None:
    """Entry point of the ``regulars`` console script."""
    from flask.cli import FlaskGroup

    from webapp import config

    try:  # a wrong setting stops here with its name, not with a traceback
        config.load()
    except config.ConfigError as error:
        click.echo(f"Configuration error: {error}", err=True)
        sys.exit(2)
    cli = FlaskGroup(create_app=app_with_commands, help="Regulars loyalty platform.")
    cli.main(prog_name="regulars")


def app_with_commands() -> Flask:
    """The app, with the ``regulars`` commands on its command line."""
    from webapp import cli
    from webapp.app import create_app

    app = create_app()
    cli.register(app)
    return app


if __name__ == "__main__":
    main()
