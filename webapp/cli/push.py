"""``regulars push ...``: VAPID keys for the environment, and the daily reminders.

The worker sends what ``remind`` queues; :func:`senders` is what it adds for push.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.cli.refusals import fail
from webapp.current import unit_of_work
from webapp.domain.errors import DomainError
from webapp.services.notify import outbox


def senders() -> dict[str, outbox.Sender]:
    """The worker's sender for web push, or nothing while push is off (no VAPID keys)."""
    from webapp.services.notify import push
    from webapp.services.notify.push_messages import KIND
    from webapp.services.notify.push_settings import settings_of

    settings = settings_of(current_app)
    return {KIND: push.sender(settings, unit_of_work())} if settings is not None else {}


@click.group("push")
def push_group() -> None:
    """Web push to the customer app (VAPID keys, reminders)."""


@push_group.command("keys")
def keys() -> None:
    """Print a new VAPID key pair to paste into the environment (keep the private one secret)."""
    from webapp.services.notify.push_settings import new_keys

    private, public = new_keys()
    click.echo(f"REGULARS_VAPID_PRIVATE_KEY={private}")
    click.echo(f"REGULARS_VAPID_PUBLIC_KEY={public}")
    click.echo("REGULARS_VAPID_SUBJECT=mailto:you@example.ru  # an address push services can"
               " write to")


@push_group.command("remind")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
def remind(business_id: int) -> None:
    """Queue today's reminders: points expiring within 7 days, and customers away longer
    than REGULARS_SLEEPING_AFTER_DAYS with points left (run daily from cron; a second
    run queues nothing new). ``regulars worker`` sends them."""
    from webapp.services.notify.push_reminders import send_reminders
    from webapp.services.notify.push_settings import settings_of

    settings = settings_of(current_app)
    if settings is None:
        click.echo("Web push is off (no REGULARS_VAPID_* keys): nothing to remind.")
        return
    try:
        done = send_reminders(unit_of_work(), business_id, datetime.now(UTC),
                              sleeping_after=settings.sleeping_after)
    except DomainError as error:
        fail(error, business_id)
    click.echo(f"Reminders queued: {done.expiring} about expiring points, {done.sleeping}"
               f" to customers away a long time ({done.messages} messages).")
