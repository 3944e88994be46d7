"""``regulars wallet ...``: check the wallets' setup, write a customer's pass (support)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from wallet.apple import apns
from wallet.apple import settings as apple
from wallet.google import settings as google
from webapp.cli.refusals import fail
from webapp.config import ConfigError
from webapp.current import unit_of_work
from webapp.domain.actor import Actor
from webapp.domain.errors import DomainError, UnknownCustomer

SOON = timedelta(days=30)


@click.group("wallet")
def wallet_group() -> None:
    """Apple Wallet and Google Wallet passes (setup check, a customer's pass)."""


@wallet_group.command("check")
@with_appcontext
def check() -> None:
    """Check the Apple Wallet and Google Wallet settings and say what is wrong."""
    settings = current_app.config["REGULARS"]
    extra, now = settings.extra, datetime.now(UTC)
    failed = _report("Apple Wallet", *_apple(extra, settings.base_url, now))
    failed |= _report("Google Wallet", *_google(extra))
    if failed:
        sys.exit(1)


def _report(name: str, status: str, found: list[str]) -> bool:
    if not found:
        click.echo(f"{name}: {status}")
        return False
    click.echo(f"{name}: {len(found)} problem{'s' if len(found) > 1 else ''}:")
    for problem in found:
        click.echo(f"  - {problem}")
    return True


def _apple(extra: Mapping[str, Any], base_url: str, now: datetime) -> tuple[str, list[str]]:
    if not apple.configured(extra):
        return ("not configured (set REGULARS_APPLE_PASS_TYPE_ID, REGULARS_APPLE_TEAM_ID,"
                " REGULARS_APPLE_PASS_CERT, REGULARS_APPLE_PASS_KEY and"
                " REGULARS_APPLE_WWDR_CERT to offer Apple Wallet passes)"), []
    found = apple.problems(extra, now)
    if found:
        return "", found
    loaded = apple.load(extra, now)
    assert loaded is not None
    try:  # the push side too: token authentication, the CA bundle
        apns.client_for(loaded, extra)
    except ConfigError as error:
        return "", [f"APNs: {error}"]
    status = (f"ready (pass type {loaded.pass_type_id}, team {loaded.team_id}; certificate"
              f" valid until {loaded.valid_until:%Y-%m-%d}; pushes to {loaded.apns_url})")
    if loaded.valid_until - now < SOON:
        status += (f"\n  note: the pass certificate expires in {(loaded.valid_until - now).days}"
                   " days; make a new one in Apple's developer account before then.")
    if not base_url.startswith("https://"):
        status += ("\n  note: REGULARS_BASE_URL is not https, so passes carry no web service"
                   " address and will not update themselves on phones.")
    return status, []


def _google(extra: Mapping[str, Any]) -> tuple[str, list[str]]:
    found = [str(problem) for problem in google.problems(extra)]
    names = ("GOOGLE_ISSUER_ID", "GOOGLE_CREDENTIALS")
    configured = any(str(extra.get(name) or "").strip() for name in names)
    if found:
        return "", found
    if not configured:
        return ("not configured (set REGULARS_GOOGLE_ISSUER_ID and"
                " REGULARS_GOOGLE_CREDENTIALS to offer Google Wallet passes)"), []
    return "ready", []


@wallet_group.command("pass")
@with_appcontext
@click.argument("card_number")
@click.option("-o", "--output", required=True, help="Where to write the .pkpass file.",
              type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--business", "business_id", type=int,
              help="The business (needed only when the card number exists in several).")
@click.option("--lang", type=click.Choice(["ru", "en"]), default="ru", show_default=True,
              help="The language of the pass's values.")
def write_pass(card_number: str, output: Path, business_id: int | None, lang: str) -> None:
    """Write a customer's current Apple Wallet pass to a file (for support)."""
    from webapp.services.wallet.apple_passes import current

    settings = current_app.config["REGULARS"]
    if not apple.configured(settings.extra):
        raise click.ClickException(
            "Apple Wallet is not configured: set the REGULARS_APPLE_* settings"
            " (`regulars wallet check` lists them).")
    try:
        loaded = apple.load(settings.extra)
    except ConfigError as error:
        raise click.ClickException(f"{error} (`regulars wallet check` says the same).") from None
    assert loaded is not None
    db = unit_of_work()
    try:
        with db.read() as session:
            business_id, customer_id = _find(session, card_number, business_id)
        made = current(db, loaded, secret_key=settings.secret_key, base_url=settings.base_url,
                       business_id=business_id, customer_id=customer_id, lang=lang)
    except DomainError as error:
        fail(error, business_id)
    try:
        output.write_bytes(made.data)
    except OSError as error:
        raise click.ClickException(f"Cannot write {output}: {error.strerror}.") from None
    click.echo(f"Wrote {output} ({len(made.data):,} bytes): card {made.view.card_number} of"
               f" {made.view.business_name}, {made.view.points_text}, serial {made.serial}.")


def _find(db: Any, card_number: str, business_id: int | None) -> tuple[int, int]:
    """(business id, customer id) of the card, in the given business or the only one."""
    from webapp.services.business import setup as businesses
    from webapp.services.customers import accounts as customers

    if business_id is not None:
        return business_id, customers.by_card(db, Actor.system(business_id), card_number).id
    found: list[tuple[int, int]] = []
    for business in businesses.overview(db):
        try:
            found.append((business.id, customers.by_card(db, Actor.system(business.id),
                                                         card_number).id))
        except UnknownCustomer:
            continue
    if not found:
        raise UnknownCustomer("card_number_unknown")
    if len(found) > 1:
        ids = ", ".join(str(b) for b, _ in found)
        raise click.ClickException(f"The card number {card_number} exists in several"
                                   f" businesses ({ids}): add --business ID.")
    return found[0]
