"""``regulars worker``: delivers the outbox (SMS, web push, wallet updates) until stopped."""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.current import unit_of_work


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
    from webapp.cli.push import senders as push_senders
    from webapp.cli.wallet_senders import apple_senders, google_senders
    from webapp.services.notify import outbox

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
        from webapp.cli.worker_beside import watch_parent

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
