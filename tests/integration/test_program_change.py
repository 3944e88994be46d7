"""What a program change does to current customers, read from their real orders and
balances before it is saved; and that a change never re-dates points already earned.
Both engines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.catalogue import words_for
from webapp.domain.actor import Actor
from webapp.domain.errors import PermissionDenied
from webapp.domain.money import format_money
from webapp.domain.presets import DEMO, PRESETS
from webapp.domain.program import MONTH, ProgramSettings
from webapp.domain.program_change import TierLoss, impact_text
from webapp.domain.quote import OrderDraft
from webapp.domain.wording import format_points
from webapp.persistence.models import Branch, Business, Customer, Lot
from webapp.services.counter import checkout
from webapp.services.ledger import balances
from webapp.services.program import versions as programs
from webapp.services.program.change_impact import change_impact

Keys = Callable[[], str]
RUB = 100
HOUR = timedelta(hours=1)
NOW = T0 + timedelta(days=30)


def orders(session: Session, owner: Actor, keys: Keys, customer: Customer, branch: Branch,
           count: int, start: int = 0) -> None:
    for n in range(start, start + count):
        checkout.close(session, owner, keys(), customer_id=customer.id, branch_id=branch.id,
                       draft=OrderDraft(total=2_500 * RUB), now=T0 + (n + 1) * HOUR)


@pytest.fixture
def regulars(session: Session, owner: Actor, keys: Keys, business: Business, branch: Branch,
             make_customer: Callable[..., Customer]) -> dict[str, Customer]:
    """The demo program (tiers by 1/3/7/15 orders, 5 % points) and four customers: one
    with 15 orders (Platinum), 3 (Silver), 2 (Base) and none."""
    programs.save(session, owner, keys(), settings=DEMO, preset_name="service_tiers", now=T0)
    made = {name: make_customer(business, name=name)
            for name in ("Пётр", "Сергей", "Анна", "Новичок")}
    for name, count in (("Пётр", 15), ("Сергей", 3), ("Анна", 2)):
        orders(session, owner, keys, made[name], branch, count)
    return made


def test_switching_to_a_preset_without_tiers_shows_who_loses_a_level(
        session: Session, owner: Actor, regulars: dict[str, Customer]) -> None:
    found = change_impact(session, owner, PRESETS["car_service"], now=NOW)
    assert (found.customers, found.up, found.down) == (4, 0, 3)
    peter = regulars["Пётр"]
    assert found.losses[0] == TierLoss(peter.id, "Пётр", "Платиновый", None)
    assert [loss.before for loss in found.losses] == ["Платиновый", "Серебряный", "Базовый"]
    lost = dict(found.perks_lost)
    assert lost["Бесплатная диагностика"] == 1 and lost["Выездной ремонт бесплатно"] == 1
    assert lost["SMS-уведомления"] == 1 and lost["Приоритетный ремонт"] == 1
    # Welcome points and 5 % of each order (after the tier's discount): still spendable
    # as cashback, at the same 1 ₽ a point.
    held = sum(balances.balance(session, owner, c.id).available
               + balances.balance(session, owner, c.id).pending for c in regulars.values())
    assert found.points == held > 4 * 100 and found.holders == 4
    assert not found.stranded and found.value_before == found.value_after == held * 100
    ru = impact_text(found, words_for("ru"), "RUB")
    assert "Пётр: «Платиновый» → без уровня." in ru
    assert "Уровень понизится или пропадёт у 3 клиентов." in ru
    assert "Привилегии «Выездной ремонт бесплатно» больше не будет у 1 клиента." in ru
    en = impact_text(found, words_for("en"), "RUB")
    assert "Пётр: “Платиновый” → no level." in en


def test_lower_thresholds_raise_customers_and_a_discount_card_strands_points(
        session: Session, owner: Actor, regulars: dict[str, Customer]) -> None:
    silver_at_two = replace(DEMO, tiers=(DEMO.tiers[0], replace(DEMO.tiers[1], min_orders=2),
                                         *DEMO.tiers[2:]))
    found = change_impact(session, owner, silver_at_two, now=NOW)
    # Анна's 2 orders now reach Silver, whose perks do not include the Base tier's SMS.
    assert (found.up, found.down, found.losses) == (1, 0, ())
    assert found.perks_lost == (("SMS-уведомления", 1),)
    assert "Уровень повысится у 1 клиента." in impact_text(found, words_for("ru"), "RUB")
    discount = change_impact(session, owner, PRESETS["discount_5"], now=NOW)
    assert discount.stranded and discount.value_after == 0 and discount.holders == 4
    points = format_points(discount.points, words_for("ru"))  # "2 724 балла"
    money = format_money(discount.points * 100, "RUB", "ru")
    ru = impact_text(discount, words_for("ru"), "RUB")
    assert f"На счетах 4 клиентов — {points} ({money}): в программе без баллов" \
        " их нельзя будет потратить." in ru


def test_the_same_program_changes_nothing_and_a_shorter_expiry_keeps_old_dates(
        session: Session, owner: Actor, regulars: dict[str, Customer]) -> None:
    same = change_impact(session, owner, DEMO, now=NOW)
    assert not same.changes_anything
    assert impact_text(same, words_for("ru"), "RUB") == [
        "Для 4 клиентов уровни, привилегии и баллы не меняются."]
    shorter = change_impact(session, owner, replace(DEMO, expiry_months=3), now=NOW)
    assert (shorter.expiry_before, shorter.expiry_after) == (12, 3)
    assert any("только для новых начислений" in line and "12 месяцев" in line
               for line in impact_text(shorter, words_for("ru"), "RUB"))


def test_only_the_owner_sees_the_impact(session: Session, manager: Actor,
                                        regulars: dict[str, Customer]) -> None:
    with pytest.raises(PermissionDenied):
        change_impact(session, manager, DEMO, now=NOW)


def test_a_change_of_expiry_never_re_dates_points_already_earned(
        session: Session, owner: Actor, keys: Keys, customer: Customer,
        branch: Branch) -> None:
    programs.save(session, owner, keys(), settings=PRESETS["bonus_5_20"],
                  preset_name="bonus_5_20", now=T0)
    orders(session, owner, keys, customer, branch, 1)
    before = {lot.id: lot.expires_at for lot in session.scalars(
        select(Lot).where(Lot.customer_id == customer.id))}
    assert list(before.values()) == [T0 + HOUR + 12 * MONTH]
    shorter: ProgramSettings = replace(PRESETS["bonus_5_20"], expiry_months=3)
    programs.save(session, owner, keys(), settings=shorter, preset_name="bonus_5_20",
                  now=T0 + 2 * HOUR)
    checkout.close(session, owner, keys(), customer_id=customer.id, branch_id=branch.id,
                   draft=OrderDraft(total=2_500 * RUB), now=T0 + 3 * HOUR)
    session.expire_all()
    lots = {lot.id: lot.expires_at for lot in session.scalars(
        select(Lot).where(Lot.customer_id == customer.id).order_by(Lot.id))}
    assert {k: lots[k] for k in before} == before  # the first order's points keep their date
    new = [at for lot_id, at in lots.items() if lot_id not in before]
    assert new == [T0 + 3 * HOUR + 3 * MONTH]  # the new setting applies to new points
    never = replace(PRESETS["bonus_5_20"], expiry_months=None)
    programs.save(session, owner, keys(), settings=never, preset_name="bonus_5_20",
                  now=T0 + 4 * HOUR)
    session.expire_all()
    assert {lot.id: lot.expires_at for lot in session.scalars(
        select(Lot).where(Lot.customer_id == customer.id))} == lots
