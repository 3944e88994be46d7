"""Every ``regulars`` command: parse, call a service, print. :func:`register` adds them
to an app's command line; ``regulars db`` comes from Flask-Migrate."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add every ``regulars`` command to ``app.cli``."""
    from webapp.cli import business, ledger, program, push, serve, wallet, worker

    for command in (business.create_business, business.create_staff, business.business_logo,
                    ledger.check_ledger, ledger.expire, ledger.birthdays, worker.worker,
                    serve.demo, serve.serve, program.program, push.push_group,
                    wallet.wallet_group):
        app.cli.add_command(command)
