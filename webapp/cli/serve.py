"""``regulars serve`` and ``regulars demo``: gunicorn, and the demo served with a worker."""

from __future__ import annotations

import os
from contextlib import nullcontext

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.current import unit_of_work
from webapp.sms import ConsoleGateway


@click.command("demo")
@with_appcontext
@click.option("--customers", default=200, show_default=True,
              type=click.IntRange(1, 100_000))
@click.option("--seed", default=7, show_default=True, help="Same seed, same history.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--serve/--no-serve", default=True, help="Serve the demo when it is built.")
def demo(customers: int, seed: int, port: int, serve: bool) -> None:
    """Build a demo car-service business with two years of history, then serve it."""
    from webapp import demo as demo_data

    with click.progressbar(length=customers, label="Writing two years of orders") as bar:
        result = demo_data.generate(unit_of_work().session, customers=customers, seed=seed,
                                    progress=bar.update)
    click.echo(f"\nDemo business {result.business_name!r} is ready.")
    click.echo(f"Staff sign-in at http://127.0.0.1:{port}/b/{result.business_id}/staff/sign-in"
               " (shown once):")
    for login, password, role in result.logins:
        click.echo(f"  {role:<8} {login:<12} {password}")
    click.echo(f"The counter: /b/{result.business_id}/counter (cashiers land there after"
               " signing in); customers' card numbers are on the managers' customer pages.")
    if result.try_phone:
        click.echo(f"The customer app: http://127.0.0.1:{port}/c/{result.business_id}/ (open"
                   f" it on a phone or a narrow window); sign in with the demo customer's"
                   f" phone {result.try_phone}.")
        console = isinstance(current_app.extensions["regulars_sms"], ConsoleGateway)
        if serve and console:
            click.echo("The sign-in code is sent by the worker running beside the server and"
                       f" appears in this terminal: \"SMS to {result.try_phone}: …\".")
        elif serve:
            click.echo("The worker running beside the server texts the sign-in code through"
                       " the SMS gateway (REGULARS_SMS_BACKEND).")
        else:
            click.echo("Sign-in codes are sent by `regulars worker`; run it beside the server.")
    if serve:
        _serve("127.0.0.1", port, workers=2, with_worker=True)


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=(os.cpu_count() or 1) * 2 + 1, show_default="2×cores+1")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the app with gunicorn."""
    _serve(host, port, workers)


def _serve(host: str, port: int, workers: int, *, with_worker: bool = False) -> None:
    """gunicorn on host:port; with ``with_worker``, ``regulars worker`` beside it as a
    child process (webapp.cli.worker_beside says why and how it stops)."""
    from webapp.app import create_app
    from webapp.cli.serving import serve as run_gunicorn
    from webapp.cli.worker_beside import worker_beside

    # The command's own app stays in this process: each worker builds its app after the
    # fork (webapp.cli.serving says why). Drop the connections the command made meanwhile.
    current_app.extensions["sqlalchemy"].engine.dispose()
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop"
               f"{' the server and the worker' if with_worker else ''})")
    with worker_beside() if with_worker else nullcontext():
        run_gunicorn(create_app, host, port, workers)
