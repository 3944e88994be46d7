"""``regulars program ...``: the loyalty program from the command line.

``regulars program simulate --business 1 --preset bonus_5_20`` says the program's rule in
one sentence and what it would cost the business a month, measured on its own orders.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import click
from flask.cli import with_appcontext

from webapp.catalogue import words_for
from webapp.cli.refusals import fail
from webapp.current import unit_of_work
from webapp.domain.actor import Actor
from webapp.domain.errors import DomainError
from webapp.domain.estimate_text import estimate_text
from webapp.domain.presets import PRESETS
from webapp.domain.program import BP, validate
from webapp.domain.rules_text import describe, warning_text
from webapp.domain.wording import language_of_locale
from webapp.persistence.models import Business


class Scaled(click.ParamType):
    """A decimal number typed by a person, stored as an integer: "0.25" visits -> 2500 bp."""

    def __init__(self, name: str, scale: int) -> None:
        self.name = name
        self.scale = scale

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            number = Decimal(str(value).replace(",", ".").strip()) * self.scale
        except InvalidOperation:
            self.fail(f"{value!r} is not a number.", param, ctx)
        if number < 0 or number != number.to_integral_value():
            self.fail(f"{value!r}: a number of 0 or more, with at most"
                      f" {len(str(self.scale)) - 1} decimals.", param, ctx)
        return int(number)


PERCENT = Scaled("percent", 100)  # 5 -> 500 basis points
MONEY = Scaled("amount", 100)  # roubles -> kopecks (every supported currency has 2 decimals)
VISITS = Scaled("visits", BP)  # 0.25 -> 2500 basis points of a visit
PER_MONTH = Scaled("number", BP)  # 1 SMS a month -> 10 000


@click.group("program")
def program() -> None:
    """The loyalty program: cost it out before launching it."""


@program.command("simulate")
@with_appcontext
@click.option("--business", "business_id", type=int, required=True)
@click.option("--preset", type=click.Choice(sorted(PRESETS)), default=None,
              help="A ready-made program; default: the business's program in force.")
@click.option("--lang", type=click.Choice(["ru", "en"]), default=None,
              help="Default: the business's locale.")
@click.option("--details/--no-details", default=False, help="Also print the rule details.")
@click.option("--customers", type=click.IntRange(0, 10**7), help="Active customers.")
@click.option("--visits", type=VISITS, help="Visits per customer a month, e.g. 0.25.")
@click.option("--average-check", type=MONEY, help="Average order, in roubles (major units).")
@click.option("--redemption", type=PERCENT, help="% of points customers eventually spend.")
@click.option("--margin", type=PERCENT, help="Gross margin on an order, %.")
@click.option("--messages", type=PER_MONTH, help="SMS per customer a month, e.g. 1.")
@click.option("--message-cost", type=MONEY, help="One SMS, in roubles.")
def simulate(business_id: int, preset: str | None, lang: str | None, details: bool,
             **numbers: int | None) -> None:
    """Say the program's rule in one sentence and estimate what it costs a month."""
    from webapp.services.program import versions as programs
    from webapp.services.program.simulation import estimate_for_business

    db = unit_of_work()
    with db.read() as session:
        business = session.get(Business, business_id)
    if business is None:
        raise click.ClickException(f"No business {business_id}.")
    currency = business.currency
    lang = lang or language_of_locale(business.locale)  # the same rule as passes and SMS
    names = {"customers": "customers", "visits": "visits_per_customer_month_bp",
             "average_check": "average_check", "redemption": "redemption_share_bp",
             "margin": "margin_bp", "messages": "messages_per_customer_month_bp",
             "message_cost": "message_cost"}
    overrides = {names[k]: v for k, v in numbers.items() if v is not None}
    actor = Actor.system(business_id)
    try:
        if preset is not None:
            settings = PRESETS[preset]
        else:
            current = programs.current(db, actor)
            if current is None:
                raise click.ClickException(f"Business {business_id} has no program yet:"
                                           " choose one with --preset.")
            settings = current.settings
        assumptions, estimate = estimate_for_business(db, actor, settings, overrides=overrides)
        warnings = validate(settings)
    except DomainError as error:
        fail(error, lang=lang)
    words = words_for(lang)
    _ = words.gettext
    text = describe(settings, words, currency)
    click.echo(text.sentence)
    if details:
        for line in text.details:
            click.echo(f"  • {line}")
    click.echo()
    for line in estimate_text(estimate, words, currency):
        click.echo(line)
    for warning in warnings:
        click.echo(_("Внимание: %(warning)s") % {
            "warning": warning_text(warning, words, currency)})
    if not assumptions.measured_orders:
        click.echo(_("Заказов за полгода меньше 20: расчёт на типичных цифрах."))
