"""``regulars check-ledger``, ``expire`` and ``birthdays``: the ledger's routine jobs."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from webapp.current import unit_of_work
from webapp.domain.actor import Actor


@click.command("check-ledger")
@with_appcontext
def check_ledger() -> None:
    """Check the ledger invariants I1-I10 over the whole database; non-zero exit on a violation."""
    from webapp.services.ledger.invariants import check

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
    from webapp.services.ledger import operations as ledger

    points = ledger.expire_due(unit_of_work(), Actor.system(business_id), datetime.now(UTC))
    click.echo(f"{points} points expired.")


@click.command("birthdays")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
def birthdays(business_id: int) -> None:
    """Credit birthday bonuses due today (once a year each; run daily from cron)."""
    from webapp.services.program import bonuses

    count = bonuses.birthdays(unit_of_work(), Actor.system(business_id), datetime.now(UTC))
    click.echo(f"{count} birthday bonuses credited.")
