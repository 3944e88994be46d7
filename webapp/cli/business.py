"""``regulars create-business``, ``create-staff`` and ``business-logo``: setting a business up."""

from __future__ import annotations

from typing import IO

import click
from flask.cli import with_appcontext

from webapp.cli.refusals import fail
from webapp.current import unit_of_work
from webapp.domain.errors import DomainError


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
    from webapp.services.business import setup as businesses

    try:
        business = businesses.create_business(
            unit_of_work(), name=name, currency=currency, timezone=timezone, locale=locale,
            phone_region=phone_region, branches=list(branches) or None)
    except DomainError as error:
        fail(error, locale=locale)
    click.echo(f"Business {business.id} created: {business.name}")


@click.command("create-staff")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
@click.option("--login", prompt=True)
@click.option("--role", type=click.Choice(["cashier", "manager", "owner"]), required=True)
@click.option("--name", "display_name", default=None)
def create_staff(business_id: int, login: str, role: str, display_name: str | None) -> None:
    """Create a staff member; the password is asked for, never taken as an argument."""
    from webapp.services.staff import accounts as staff

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        member = staff.create_staff(unit_of_work(), business_id=business_id, login=login,
                                    password=password, role=role, display_name=display_name)
    except DomainError as error:
        fail(error, business_id)
    click.echo(f"Staff {member.login} ({member.role}) created.")


@click.command("business-logo")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
@click.argument("image", type=click.File("rb"))
def business_logo(business_id: int, image: IO[bytes]) -> None:
    """Set a business's logo from a PNG, JPEG or WebP file (scaled to fit 512×512)."""
    from webapp.services.business import logos

    try:
        logo = logos.set_logo(unit_of_work(), business_id, image.read(logos.MAX_BYTES + 1))
    except DomainError as error:
        fail(error, business_id)
    click.echo(f"logo set: {logo.width}×{logo.height} PNG, {len(logo.png):,} bytes")
