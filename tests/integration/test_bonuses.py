"""Welcome and birthday bonuses: paid once, only under a program that earns points."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.actor import Actor
from webapp.domain.presets import PRESETS
from webapp.domain.program import Bonuses
from webapp.services.customers import accounts as customers
from webapp.services.ledger import balances
from webapp.services.program import bonuses
from webapp.services.program import versions as programs
from webapp.services.program.bonuses import _same_day

GIFTS = Bonuses(welcome=100, birthday=200, birthday_window_days=3)


def test_welcome_bonus_is_paid_once_on_joining(session: Session, owner: Actor) -> None:
    programs.save(session, owner, "program-v1-key", now=T0,
                  settings=replace(PRESETS["bonus_5_20"], bonuses=GIFTS))
    joined = customers.join(session, owner, phone="+79161112233", now=T0 + timedelta(hours=1))
    assert balances.balance(session, owner, joined.customer.id).available == 100
    again = customers.join(session, owner, phone="+79161112233", now=T0 + timedelta(hours=2))
    assert not again.created
    assert bonuses.welcome(session, owner, joined.customer.id, T0 + timedelta(hours=3)) == 0
    assert balances.balance(session, owner, joined.customer.id).available == 100  # still once


def test_no_welcome_without_points(session: Session, owner: Actor) -> None:
    programs.save(session, owner, "program-v1-key", now=T0, settings=PRESETS["discount_5"])
    joined = customers.join(session, owner, phone="+79161112233", now=T0 + timedelta(hours=1))
    assert balances.balance(session, owner, joined.customer.id).available == 0


def test_birthday_bonus_within_the_window_once_a_year(session: Session, owner: Actor) -> None:
    programs.save(session, owner, "program-v1-key", now=T0,
                  settings=replace(PRESETS["bonus_5_20"], bonuses=GIFTS))
    soon = customers.join(session, owner, phone="+79161112233", now=T0,
                          birthday=date(1990, 1, 17)).customer  # T0 is 15 January
    later = customers.join(session, owner, phone="+79161112234", now=T0,
                           birthday=date(1990, 1, 25)).customer
    assert bonuses.birthdays(session, owner, T0) == 1
    assert bonuses.birthdays(session, owner, T0 + timedelta(days=1)) == 0  # paid already
    assert balances.balance(session, owner, soon.id).available == 100 + 200
    assert balances.balance(session, owner, later.id).available == 100
    assert bonuses.birthdays(session, owner, datetime(2027, 1, 15, 9, tzinfo=UTC)) == 1


def test_leap_day_birthdays_are_celebrated_on_the_28th() -> None:
    assert _same_day(date(2000, 2, 29), date(2027, 2, 28))
    assert not _same_day(date(2000, 2, 29), date(2028, 2, 28))
    assert _same_day(date(2000, 2, 29), date(2028, 2, 29))


def test_birthdays_command(app) -> None:
    from webapp.services.business import setup as businesses

    with app.app_context():
        business = businesses.create_business(app.test_session(), name="Гараж")
    result = app.test_cli_runner().invoke(args=["birthdays", "--business", str(business.id)])
    assert result.exit_code == 0 and "0 birthday bonuses credited." in result.output
