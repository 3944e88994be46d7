"""The cost estimate on a business's own orders, and ``regulars program simulate``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.conftest import T0
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import InvalidInput, PermissionDenied
from webapp.domain.presets import PRESETS
from webapp.domain.program import LineRule
from webapp.domain.simulation import Assumptions, Category
from webapp.persistence.models import Branch, Business, Customer, Order, OrderLine
from webapp.services.business import setup as businesses
from webapp.services.counter.orders import close_order
from webapp.services.program import versions as programs
from webapp.services.program.simulation import estimate_for_business

Keys = Callable[[], str]
DAY = timedelta(days=1)
RUB = 100
NBSP, NNBSP = "\u00a0", "\u202f"


def add_orders(session: Session, actor: Actor, keys: Keys, branch: Branch,
               customer: Customer, amounts_rub: list[int], category: str | None = None,
               start: int = 1) -> None:
    """One order a day going back from T0: start days ago, then start+1, ..."""
    for days, rub in enumerate(amounts_rub, start=start):
        close_order(session, actor, keys(), customer_id=customer.id, branch_id=branch.id,
                    total_minor=rub * RUB, service_category=category, now=T0 - days * DAY)


@pytest.fixture
def history(session: Session, business: Business, customer: Customer, branch: Branch,
            system: Actor, keys: Keys, make_customer: Callable[..., Customer]
            ) -> tuple[Customer, Customer, Customer]:
    """24 paid orders of 3 customers in the last six months, one older order."""
    second, third = make_customer(business), make_customer(business)
    add_orders(session, system, keys, branch, customer, [2_000] * 10, "oil_change")
    add_orders(session, system, keys, branch, customer, [4_000] * 6, "repair", start=20)
    add_orders(session, system, keys, branch, second, [5_000] * 5, "oil_change", start=40)
    add_orders(session, system, keys, branch, third, [1_000] * 3, start=60)
    add_orders(session, system, keys, branch, third, [500], start=200)  # 6+ months ago
    return customer, second, third


def test_the_estimate_uses_the_measured_numbers(session: Session, system: Actor,
                                                history: Any) -> None:
    assumptions, estimate = estimate_for_business(session, system, PRESETS["bonus_5_20"],
                                                  now=T0)
    total = (10 * 2_000 + 6 * 4_000 + 5 * 5_000 + 3 * 1_000) * RUB
    assert assumptions.measured_orders == 24
    assert assumptions.customers == 3
    assert assumptions.average_check == total // 24
    assert assumptions.visits_per_customer_month_bp == 13_333  # 24 / 3 / 6 months
    assert assumptions.redemption_share_bp == Assumptions().redemption_share_bp
    assert Category("oil_change", 6250, 3_000 * RUB) in assumptions.categories  # 15 of 24
    # A month of the six months' revenue (up to rounding the visit rate to 1/10 000).
    assert estimate.monthly_revenue == 3 * 13_333 * (total // 24) // 10_000
    assert estimate.lines[0][1]["measured_orders"] == 24


def test_tier_shares_are_measured_from_each_customers_tier(session: Session, system: Actor,
                                                           history: Any) -> None:
    assumptions, estimate = estimate_for_business(session, system, PRESETS["service_tiers"],
                                                  now=T0)
    # Of 72 000 ₽ in six months: 16 orders make the first customer Platinum (44 000 ₽),
    # 25 000 ₽ make the second Gold, and 4 orders (one older, tiers count them all) make
    # the third Silver (3 000 ₽).
    mix = tuple(rub * 10_000 // 72_000 for rub in (0, 3_000, 25_000, 44_000))
    assert assumptions.tier_mix_bp == mix
    revenue = estimate.monthly_revenue
    assert estimate.discounts == revenue * (mix[1] * 500 + mix[2] * 1000 + mix[3] * 1500
                                            ) // 10**8


def test_overrides_win_and_few_orders_mean_typical_numbers(
        session: Session, system: Actor, keys: Keys, branch: Branch,
        customer: Customer) -> None:
    add_orders(session, system, keys, branch, customer, [3_000] * 19)
    assumptions, _ = estimate_for_business(session, system, PRESETS["bonus_5_20"], now=T0)
    assert assumptions == Assumptions()
    assumptions, estimate = estimate_for_business(
        session, system, PRESETS["bonus_5_20"], now=T0, overrides={"customers": 1000})
    assert assumptions.customers == 1000 and assumptions.measured_orders == 0
    assert estimate.monthly_revenue == 1000 * 3_000 * RUB // 4
    with pytest.raises(InvalidInput):
        estimate_for_business(session, system, PRESETS["bonus_5_20"],
                              overrides={"visitors": 1})


def test_only_managers_and_the_current_program(session: Session, business: Business,
                                               system: Actor, cashier: Actor,
                                               make_staff: Callable[..., Actor],
                                               keys: Keys) -> None:
    with pytest.raises(PermissionDenied):
        estimate_for_business(session, cashier, PRESETS["bonus_5_20"])
    with pytest.raises(InvalidInput, match="simulation_needs_preset"):
        estimate_for_business(session, system, now=T0)
    owner = make_staff(business, Role.OWNER)
    programs.save(session, owner, keys(), settings=PRESETS["discount_5"],
                  preset_name="discount_5", now=T0)
    _, estimate = estimate_for_business(session, system, now=T0 + DAY)
    assert estimate.discounts == estimate.monthly_revenue * 5 // 100


# -- the command ---------------------------------------------------------------------


@pytest.fixture
def cli_business(app: Flask) -> Business:
    with app.app_context():
        return businesses.create_business(app.test_session(), name="Гараж на Садовой")


def run(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["program", "simulate", *args])


def test_simulate_prints_the_sentence_and_the_estimate(app: Flask,
                                                       cli_business: Business) -> None:
    result = run(app, "--business", str(cli_business.id), "--preset", "bonus_5_20")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].replace(NBSP, " ") == (
        "5 % от каждого заказа возвращается бонусами, ими можно оплатить до 20 % следующего"
        " заказа.")
    assert any(line.startswith("Итого программа стоит") for line in lines)
    assert "типичные цифры" in result.output


def test_simulate_in_english_with_own_numbers(app: Flask, cli_business: Business) -> None:
    result = run(app, "--business", str(cli_business.id), "--preset", "car_service",
                 "--lang", "en", "--customers", "100", "--average-check", "5000",
                 "--visits", "0.25", "--margin", "25", "--details")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("5% of every order comes back as cashback")
    assert "Every 6th oil change is free (counted for each vehicle separately)." in result.output
    assert "₽125,000 from 100 active customers" in result.output  # 25 visits × ₽5,000
    assert "Warning: Points can pay up to 100%" in result.output


def test_bad_input_is_a_clean_message(app: Flask, cli_business: Business) -> None:
    result = run(app, "--business", str(cli_business.id), "--preset", "no_such_program")
    assert result.exit_code != 0
    assert "Invalid value for '--preset'" in result.output and "bonus_5_20" in result.output
    assert "Traceback" not in result.output
    result = run(app, "--business", str(cli_business.id), "--preset", "bonus_5_20",
                 "--visits", "a lot")
    assert result.exit_code != 0 and "is not a number" in result.output
    result = run(app, "--business", "999999", "--preset", "bonus_5_20")
    assert result.exit_code != 0 and "No business 999999" in result.output
    result = run(app, "--business", str(cli_business.id))
    assert result.exit_code != 0 and "no program yet" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_line_rules_are_costed_with_the_measured_kinds(session: Session, system: Actor,
                                                       history: Any) -> None:
    no_parts = replace(PRESETS["bonus_5_20"], line_rules=(LineRule(kind="part", accrual_bp=0),))
    # One-line orders say nothing of the kinds: the typical mix, stated.
    typical, estimate = estimate_for_business(session, system, no_parts, now=T0)
    assert typical.kind_mix_bp == ()
    assert ("kind_mix", {"parts_bp": 4000}) in estimate.lines
    # The repairs were parts, as typed line by line at the counter.
    session.execute(update(OrderLine).where(OrderLine.order_id.in_(
        select(Order.id).where(Order.service_category == "repair"))).values(kind="part"))
    measured, estimate = estimate_for_business(session, system, no_parts, now=T0)
    total = 10 * 2_000 + 6 * 4_000 + 5 * 5_000 + 3 * 1_000
    assert measured.kind_mix_bp == (("other", 10_000 - 6 * 4_000 * 10_000 // total),
                                    ("part", 6 * 4_000 * 10_000 // total))
    assert not [code for code, _ in estimate.lines if code == "kind_mix"]
