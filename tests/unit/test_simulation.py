"""The monthly cost estimate: hand-computed examples, monotonicity, measured assumptions."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.catalogue import words_for
from webapp.domain.errors import InvalidInput
from webapp.domain.estimate_text import estimate_text
from webapp.domain.presets import DEMO, PRESETS
from webapp.domain.program import InvalidSetting, LineRule, ProgramSettings, StampCard
from webapp.domain.simulation import (
    Assumptions,
    Category,
    Estimate,
    assumptions_from_history,
    categories_from_history,
    kind_mix_from_history,
    months_before,
    simulate,
)

NBSP, NNBSP = "\u00a0", "\u202f"
BONUS = PRESETS["bonus_5_20"]
SMALL = Assumptions(customers=200, visits_per_customer_month_bp=5000, average_check=400_000,
                    redemption_share_bp=5000, margin_bp=4000,
                    messages_per_customer_month_bp=5000, message_cost=400)


def test_bonus_5_20_by_hand() -> None:
    e = simulate(BONUS, SMALL)
    # 200 customers × 0.5 visits = 100 visits × 4 000 ₽ = 400 000 ₽.
    assert e.monthly_revenue == 40_000_000
    # Earn 5 %, 50 % of it is spent, and the part paid with points earns nothing:
    # spent = R·r/(1 + r) with r = 5 % × 50 % = 1/40, so 40 000 000/41 = 975 609.75...
    assert e.points_cost == 975_609
    assert e.discounts == 0 and e.stamp_rewards == 0
    assert e.messages == 40_000  # 200 × 0.5 SMS × 4 ₽
    assert e.total_cost == 1_015_609
    assert e.cost_share_bp == 253  # 2.539 %, rounded down
    # One extra visit brings 4 000 ₽ × 40 % = 1 600 ₽: 10 156.09 / 1 600 = 6.35 -> 7.
    assert e.extra_visits_to_break_even == 7
    assert [code for code, _ in e.lines] == ["revenue", "points", "messages", "total",
                                            "break_even"]


def test_points_that_earn_points_cost_the_plain_product() -> None:
    e = simulate(replace(BONUS, accrue_on_redeemed=True), SMALL)
    assert e.points_cost == 1_000_000  # 400 000 ₽ × 5 % × 50 %


def test_the_redeem_cap_bounds_what_points_can_cost() -> None:
    greedy = replace(BONUS, accrual_bp=5000, redeem_cap_bp=1000)
    e = simulate(greedy, replace(SMALL, redemption_share_bp=10_000))
    assert e.points_cost == 4_000_000  # 10 % of 400 000 ₽, not the 50 % earned


def test_discount_card_costs_revenue_times_rate() -> None:
    e = simulate(PRESETS["discount_5"], Assumptions())
    assert e.monthly_revenue == 22_500_000  # 300 × 0.25 × 3 000 ₽, the seeds' check
    assert e.discounts == 22_500_000 * 5 // 100
    assert e.points_cost == 0
    assert e.total_cost == e.discounts + e.messages


def test_break_even_rounds_up() -> None:
    exact = Assumptions(customers=100, visits_per_customer_month_bp=10_000,
                        average_check=100_000, margin_bp=5000, message_cost=0)
    e = simulate(PRESETS["discount_5"], exact)
    assert (e.total_cost, e.extra_visits_to_break_even) == (500_000, 10)  # 500 000 / 50 000
    e = simulate(PRESETS["discount_5"], replace(exact, message_cost=1))
    assert (e.total_cost, e.extra_visits_to_break_even) == (500_100, 11)


def test_tiers_use_the_mix() -> None:
    tiers = PRESETS["service_tiers"]
    # 50/30/15/5 of customers at 3/5/10/15 %: 5.25 % of revenue.
    assert simulate(tiers, Assumptions()).discounts == 22_500_000 * 525 // 10_000
    everyone_platinum = Assumptions(tier_mix_bp=(0, 0, 0, 10_000))
    assert simulate(tiers, everyone_platinum).discounts == 22_500_000 * 15 // 100
    nobody = Assumptions(tier_mix_bp=(0, 0, 0, 0))  # all below the first tier
    assert simulate(tiers, nobody).discounts == 0
    with pytest.raises(InvalidInput):
        simulate(tiers, Assumptions(tier_mix_bp=(5000, 5000)))
    with pytest.raises(InvalidInput):
        simulate(tiers, Assumptions(tier_mix_bp=(5000, 5000, 5000, 0)))


def test_stamp_cards_bonuses_and_what_is_not_counted() -> None:
    e = simulate(PRESETS["car_service"], Assumptions())
    # 75 visits × 25 % oil changes / every 6th × 3 000 ₽.
    assert e.stamp_rewards == 937_500
    assert ("not_counted", {"what": "gift", "visit": 3}) in e.lines
    measured = Assumptions(categories=(Category("oil_change", 2000, 200_000),))
    assert simulate(PRESETS["car_service"], measured).stamp_rewards == 500_000
    half = replace(PRESETS["car_service"], stamp_cards=(
        StampCard("oil_change", "Масло", every=6, reward_bp=5000),))
    assert simulate(half, Assumptions()).stamp_rewards == 937_500 // 2
    lines = dict(simulate(DEMO, Assumptions()).lines)
    assert lines["welcome"]["amount"] == 15 * 100 * 100 * 70 // 100  # 15 newcomers, 100 pts
    assert lines["birthday"]["amount"] == 25 * 200 * 100 * 70 // 100  # 300/12 birthdays


def test_results_are_integers() -> None:
    for settings in [*PRESETS.values(), DEMO]:
        e = simulate(settings, Assumptions())
        for f in fields(Estimate):
            if f.name != "lines":
                assert type(getattr(e, f.name)) is int, f.name
        for _, params in e.lines:
            assert all(type(v) in (int, str) for v in params.values()), params
        assert e.total_cost == (e.discounts + e.points_cost + e.stamp_rewards + e.perks
                                + e.messages)


@given(st.integers(1, 9_999), st.integers(1, 9_999), st.integers(1, 5_000),
       st.integers(0, 10_000), st.booleans())
def test_cost_grows_with_the_accrual_rate(a: int, b: int, customers: int, redemption: int,
                                          on_redeemed: bool) -> None:
    low, high = sorted((a, b))
    assumptions = Assumptions(customers=customers, redemption_share_bp=redemption)
    program = replace(BONUS, redeem_cap_bp=10_000, accrue_on_redeemed=on_redeemed)
    cheap = simulate(replace(program, accrual_bp=low), assumptions)
    dear = simulate(replace(program, accrual_bp=high), assumptions)
    assert cheap.total_cost <= dear.total_cost
    assert cheap.extra_visits_to_break_even <= dear.extra_visits_to_break_even
    if high - low >= 100 and redemption >= 100 and customers >= 100:  # beyond rounding
        assert cheap.points_cost < dear.points_cost


def test_impossible_inputs_are_refused() -> None:
    with pytest.raises(InvalidInput):
        simulate(BONUS, Assumptions(margin_bp=0))
    with pytest.raises(InvalidInput):
        simulate(BONUS, Assumptions(average_check=0))
    with pytest.raises(InvalidSetting):
        simulate(replace(BONUS, accrual_bp=0), Assumptions())
    nobody = simulate(BONUS, Assumptions(customers=0))
    assert (nobody.total_cost, nobody.cost_share_bp, nobody.extra_visits_to_break_even) \
        == (0, 0, 0)


NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)


def test_assumptions_from_history() -> None:
    orders = [
        (datetime(2026, 6, 1, tzinfo=UTC), 1, 300_000),
        (datetime(2026, 5, 1, tzinfo=UTC), 1, 500_000),
        (datetime(2026, 3, 1, tzinfo=UTC), 2, 100_000),
        (datetime(2026, 2, 1, tzinfo=UTC), 3, 200_000),
        (datetime(2026, 1, 1, 11, tzinfo=UTC), 4, 999),  # before the six months
        (datetime(2026, 7, 2, tzinfo=UTC), 5, 999),  # after now
    ]
    a = assumptions_from_history(orders, NOW)
    assert (a.customers, a.average_check, a.measured_orders) == (3, 275_000, 4)
    assert a.visits_per_customer_month_bp == 2222  # 4 orders / 3 customers / 6 months
    assert a.redemption_share_bp == Assumptions().redemption_share_bp
    assert assumptions_from_history(orders, NOW, customers=1000).customers == 1000
    assert assumptions_from_history([], NOW) == Assumptions()


def test_categories_and_months() -> None:
    found = categories_from_history([("oil_change", 100), ("oil_change", 300), (None, 1000),
                                     ("tyres", 500)])
    assert found == (Category("oil_change", 5000, 200), Category("tyres", 2500, 500))
    assert months_before(datetime(2026, 3, 31, tzinfo=UTC), 1) == \
        datetime(2026, 2, 28, tzinfo=UTC)
    assert months_before(NOW, 6) == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert months_before(datetime(2026, 2, 15, tzinfo=UTC), 14) == \
        datetime(2024, 12, 15, tzinfo=UTC)


@pytest.mark.parametrize("settings", [*PRESETS.values(), DEMO])
def test_estimate_text_in_both_languages(settings: ProgramSettings) -> None:
    e = simulate(settings, Assumptions())
    ru = estimate_text(e, words_for("ru"), "RUB")
    en = estimate_text(e, words_for("en"), "RUB")
    assert len(ru) == len(en) == len(e.lines)
    assert f"225{NNBSP}000{NBSP}₽" in ru[0] and "₽225,000" in en[0]
    assert "типичные цифры" in ru[0] and "typical numbers" in en[0]
    assert ru[-2].startswith("Итого") and en[-2].startswith("In all")
    assert all(line.strip() for line in ru + en)


def test_line_rules_are_costed_by_the_kind_of_lines() -> None:
    base = PRESETS["cashback_5_50"]
    no_parts = replace(base, line_rules=(LineRule(kind="part", accrual_bp=0),))
    plain = simulate(base, Assumptions())
    typical = simulate(no_parts, Assumptions())
    # No points on parts: 40 % of the revenue (the stated typical mix) earns nothing.
    assert typical.points_cost < plain.points_cost
    assert abs(typical.points_cost - plain.points_cost * 6 // 10) <= 1
    assert [p for code, p in typical.lines if code == "kind_mix"] == [{"parts_bp": 4000}]
    measured = simulate(no_parts, Assumptions(kind_mix_bp=(("part", 2000), ("work", 8000))))
    assert abs(measured.points_cost - plain.points_cost * 8 // 10) <= 1
    assert not [code for code, _ in measured.lines if code == "kind_mix"]
    # The mix from the lines kept: one-line orders (kind "other") say nothing.
    assert kind_mix_from_history([("work", 300), ("part", 700)]) == (
        ("part", 7000), ("work", 3000))
    assert kind_mix_from_history([("other", 500)]) == ()


def test_a_discount_kept_off_parts_costs_less() -> None:
    card = PRESETS["discount_5"]
    kept = replace(card, line_rules=(LineRule(kind="part", discounted=False),))
    full = simulate(card, Assumptions()).discounts
    assert simulate(kept, Assumptions()).discounts == full * 6 // 10
