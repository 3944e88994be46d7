"""CLI commands (``regulars ...``): parse, call a service, print. ``regulars db`` comes
from Flask-Migrate (``regulars db upgrade`` creates or upgrades the schema)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import nullcontext
from datetime import UTC, datetime
from types import FrameType
from typing import IO

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from webapp.current import unit_of_work
from webapp.domain.actor import Actor
from webapp.domain.errors import DomainError
from webapp.sms import ConsoleGateway


def register(app: Flask) -> None:
    for command in (create_business, create_staff, check_ledger, expire, birthdays, demo,
                    serve, worker, business_logo):
        app.cli.add_command(command)
    from wallet.cli import wallet_group
    from webapp.commands_program import program
    from webapp.commands_push import push_group
    app.cli.add_command(program)
    app.cli.add_command(push_group)
    app.cli.add_command(wallet_group)


def _fail(error: DomainError) -> None:
    raise click.ClickException(error.message)


@click.command("create-business")
@with_appcontext
@click.option("--name", prompt="Business name")
@click.option("--currency", default="RUB", show_default=True, help="ISO 4217 code.")
@click.option("--timezone", default="Europe/Moscow", show_default=True)
@click.option("--locale", default="ru", show_default=True)
@click.option("--phone-region", default="RU", show_default=True)
@click.option("--branch", "branches", multiple=True, help="Branch name (repeat for several).")
def create_business(name: str, currency: str, timezone: str, locale: str, phone_region: str,
                    branches: tuple[str, ...]) -> None:
    """Create a business with its branches and ledger accounts."""
    from webapp.services import businesses

    try:
        business = businesses.create_business(
            unit_of_work(), name=name, currency=currency, timezone=timezone, locale=locale,
            phone_region=phone_region, branches=list(branches) or None)
    except DomainError as error:
        _fail(error)
    click.echo(f"Business {business.id} created: {business.name}")


@click.command("create-staff")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
@click.option("--login", prompt=True)
@click.option("--role", type=click.Choice(["cashier", "manager", "owner"]), required=True)
@click.option("--name", "display_name", default=None)
def create_staff(business_id: int, login: str, role: str, display_name: str | None) -> None:
    """Create a staff member; the password is asked for, never taken as an argument."""
    from webapp.services import staff

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        member = staff.create_staff(unit_of_work(), business_id=business_id, login=login,
                                    password=password, role=role, display_name=display_name)
    except DomainError as error:
        _fail(error)
    click.echo(f"Staff {member.login} ({member.role}) created.")


@click.command("check-ledger")
@with_appcontext
def check_ledger() -> None:
    """Check the ledger invariants I1-I10 over the whole database; non-zero exit on a violation."""
    from webapp.services.ledger_check import check

    report = check(unit_of_work())
    click.echo("Ledger: " + ", ".join(f"{n:,} {k}" for k, n in report.counts.items()))
    for finding in report.findings:
        mark = "ok  " if finding.ok else "FAIL"
        click.echo(f"{mark} {finding.invariant:<4} {finding.title}")
        for violation in finding.violations:
            click.echo(f"       - {violation}")
        if finding.note:
            click.echo(f"       ({finding.note})")
    if not report.ok:
        click.echo("Violations found.", err=True)
        sys.exit(1)
    click.echo("All invariants hold.")


@click.command("expire")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
def expire(business_id: int) -> None:
    """Expire points whose time has come (safe to run at any time, e.g. hourly from cron)."""
    from webapp.services import ledger

    points = ledger.expire_due(unit_of_work(), Actor.system(business_id), datetime.now(UTC))
    click.echo(f"{points} points expired.")


@click.command("birthdays")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
def birthdays(business_id: int) -> None:
    """Credit birthday bonuses due today (once a year each; run daily from cron)."""
    from webapp.services import bonuses

    count = bonuses.birthdays(unit_of_work(), Actor.system(business_id), datetime.now(UTC))
    click.echo(f"{count} birthday bonuses credited.")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Run one batch and exit.")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(min=0.01),
              help="Seconds to wait when the outbox has nothing due.")
@click.option("--beside", "parent", type=int, hidden=True,
              help="The pid of the parent process: also stop when it closes standard input"
                   " or exits (how `regulars demo` runs the worker).")
def worker(once: bool, interval: float, parent: int | None) -> None:
    """Send what the outbox holds (SMS, web push, wallet updates), with retries; SIGTERM
    or Ctrl+C stops it after the current batch (a second Ctrl+C stops it at once)."""
    from webapp.commands_push import senders as push_senders
    from webapp.services import outbox
    from webapp.wallet_worker import apple_senders, google_senders

    senders = {outbox.SMS: outbox.sms_sender(current_app.extensions["regulars_sms"]),
               **push_senders(), **apple_senders(), **google_senders()}
    if once:
        summary = outbox.run_once(unit_of_work(), senders)
        click.echo(f"sent {summary.sent}, retried {summary.retried}, failed {summary.failed}")
        return
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # asked twice: do not wait for the batch
        stop.set()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    if parent is not None:
        from webapp.worker_beside import watch_parent

        watch_parent(stop, parent)
    click.echo(f"Worker started (pid {os.getpid()}); SIGTERM or Ctrl+C stops it.")
    try:
        while not stop.is_set():
            uow = unit_of_work()
            try:
                summary = outbox.run_once(uow, senders)
            except Exception:  # a database hiccup must not end the worker; leases expire
                # (the failed scope has rolled back; close() ends anything left over)
                logging.getLogger("regulars.worker").exception("Outbox batch failed")
                summary = outbox.Summary()
            finally:
                uow.session.close()  # a long-running process must not keep every row it touched
            if summary.total:
                click.echo(f"sent {summary.sent}, retried {summary.retried},"
                           f" failed {summary.failed}")
            else:
                stop.wait(interval)
    except KeyboardInterrupt:
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo("Worker stopped.")


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
    child process (webapp.worker_beside says why and how it stops)."""
    from webapp.app import create_app
    from webapp.serving import serve as run_gunicorn
    from webapp.worker_beside import worker_beside

    # The command's own app stays in this process: each worker builds its app after the
    # fork (webapp.serving says why). Drop the connections the command made meanwhile.
    current_app.extensions["sqlalchemy"].engine.dispose()
    click.echo(f"Serving on http://{host}:{port}/  (Ctrl+C to stop"
               f"{' the server and the worker' if with_worker else ''})")
    with worker_beside() if with_worker else nullcontext():
        run_gunicorn(create_app, host, port, workers)


@click.command("business-logo")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
@click.argument("image", type=click.File("rb"))
def business_logo(business_id: int, image: IO[bytes]) -> None:
    """Set a business's logo from a PNG, JPEG or WebP file (scaled to fit 512×512)."""
    from webapp.services import logos

    try:
        logo = logos.set_logo(unit_of_work(), business_id, image.read(logos.MAX_BYTES + 1))
    except DomainError as error:
        _fail(error)
    click.echo(f"logo set: {logo.width}×{logo.height} PNG, {len(logo.png):,} bytes")
