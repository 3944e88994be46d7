"""The seed articles' tables replayed through the pure quote (no app, no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.catalogue import words_for
from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.presets import DEMO, PRESETS
from webapp.domain.program import Mechanic
from webapp.domain.quote import CustomerState, OrderDraft, quote
from webapp.domain.tiers import PaidOrder, tier_index

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
RUB = 100
TIERS = PRESETS["service_tiers"]


def history(*amounts_rub: int, category: str | None = None) -> tuple[PaidOrder, ...]:
    return tuple(PaidOrder(NOW - (len(amounts_rub) - i) * DAY, a * RUB, category)
                 for i, a in enumerate(amounts_rub))


def tier_name(orders: tuple[PaidOrder, ...]) -> str | None:
    index = tier_index(TIERS, orders, NOW)
    return TIERS.tiers[index].name if index is not None else None


@pytest.mark.parametrize(("orders", "tier"), [
    ((), None),
    (history(500), "Базовый"),
    (history(500, 500), "Базовый"),
    (history(500, 500, 500), "Серебряный"),
    (history(*[2_000] * 5 + [6_000]), "Золотой"),  # 6 orders, 16 000 ₽: by spend
    (history(*[1_000] * 7), "Золотой"),  # 7 orders, 7 000 ₽: by count
    (history(*[2_000] * 13 + [3_999]), "Золотой"),  # 14 orders, 29 999 ₽
    (history(*[2_000] * 14 + [1]), "Платиновый"),  # the 15th order
    (history(30_000), "Платиновый"),  # one order of 30 000 ₽: by spend
])
def test_the_four_tier_table(orders: tuple[PaidOrder, ...], tier: str | None) -> None:
    assert tier_name(orders) == tier


def test_the_fifteenth_order_is_quoted_as_reaching_platinum() -> None:
    result = quote(TIERS, 1, CustomerState(0, history(*[2_000] * 13 + [3_999])),
                   OrderDraft(total=100 * RUB), NOW)
    assert (result.tier_before, result.tier_after) == ("Золотой", "Платиновый")
    assert result.discount_bp == 1000 and result.discount == 10 * RUB  # still Gold's 10 %
    assert any(line.code == "tier_reached" for line in result.lines)


def test_next_tier_shows_both_paths() -> None:
    result = quote(TIERS, 1, CustomerState(0, history(2_000, 2_000, 2_000, 2_000)),
                   OrderDraft(total=1_500 * RUB), NOW)
    assert result.tier_after == "Серебряный"
    assert result.next_tier is not None
    assert (result.next_tier.name, result.next_tier.orders_missing,
            result.next_tier.spend_missing) == ("Золотой", 2, 5_500 * RUB)


def test_refunded_orders_do_not_count_towards_tiers() -> None:
    orders = (*history(500, 500), PaidOrder(NOW - DAY, 0))
    assert tier_name(orders) == "Базовый"


def test_every_sixth_oil_change_is_free() -> None:
    car = PRESETS["car_service"]
    five = history(*[3_000] * 5, category="oil_change")
    sixth = quote(car, 1, CustomerState(0, five), OrderDraft(3_200 * RUB, "oil_change"), NOW)
    assert sixth.stamp_discount == 3_200 * RUB and sixth.paid == 0 and sixth.accrue_points == 0
    assert "stamp:oil_change" in sixth.used
    assert sixth.stamps[0].have == 0  # the card starts again
    fifth = quote(car, 1, CustomerState(0, five[:4]), OrderDraft(3_000 * RUB, "oil_change"), NOW)
    assert fifth.stamp_discount == 0 and fifth.stamps[0].have == 5
    other = quote(car, 1, CustomerState(0, five), OrderDraft(3_000 * RUB, "brakes"), NOW)
    assert other.stamp_discount == 0


def test_five_percent_of_the_bill_is_available_at_the_next_visit() -> None:
    car = PRESETS["car_service"]
    first = quote(car, 1, CustomerState(0), OrderDraft(10_000 * RUB, "repair"), NOW)
    assert first.accrue_points == 500  # 1 point = 1 ₽
    second = quote(car, 1, CustomerState(500, history(10_000)), OrderDraft(2_000 * RUB), NOW)
    assert second.max_redeem_points == 500


def test_a_gift_on_the_third_visit() -> None:
    car = PRESETS["car_service"]
    third = quote(car, 1, CustomerState(0, history(1_000, 1_000)), OrderDraft(1_000 * RUB), NOW)
    assert [p.code for p in third.entitlements] == ["visit_gift"]
    fourth = quote(car, 1, CustomerState(0, history(1_000, 1_000, 1_000)),
                   OrderDraft(1_000 * RUB), NOW)
    assert fourth.entitlements == ()


def test_bonus_5_20_caps_redemption_at_20_percent_and_accrues_on_the_paid_part() -> None:
    bonus = PRESETS["bonus_5_20"]
    result = quote(bonus, 1, CustomerState(5_000), OrderDraft(10_000 * RUB, redeem_points=2_000),
                   NOW)
    assert result.max_redeem_points == 2_000
    assert result.paid == 8_000 * RUB and result.accrue_points == 400
    with pytest.raises(InvalidAmount):
        quote(bonus, 1, CustomerState(5_000), OrderDraft(10_000 * RUB, redeem_points=2_001), NOW)
    generous = replace(bonus, accrue_on_redeemed=True)
    assert quote(generous, 1, CustomerState(5_000),
                 OrderDraft(10_000 * RUB, redeem_points=2_000), NOW).accrue_points == 500


def test_discount_card_gives_five_percent_and_no_points() -> None:
    result = quote(PRESETS["discount_5"], 1, CustomerState(0), OrderDraft(999 * RUB), NOW)
    assert (result.discount, result.accrue_points, result.max_redeem_points) == (4995, 0, 0)


def test_minimum_order_for_redeeming() -> None:
    bonus = replace(PRESETS["bonus_5_20"], min_order_for_redeem=1_000 * RUB)
    assert quote(bonus, 1, CustomerState(900), OrderDraft(999 * RUB), NOW).max_redeem_points == 0


def test_gold_perk_can_be_used_once_per_visit() -> None:
    gold = history(*[1_000] * 7)
    result = quote(TIERS, 1, CustomerState(0, gold), OrderDraft(1_000 * RUB,
                                                                use=("free_diagnostics",)), NOW)
    assert "free_diagnostics" in result.used
    with pytest.raises(InvalidInput):
        quote(TIERS, 1, CustomerState(0, history(500)),
              OrderDraft(1_000 * RUB, use=("free_diagnostics",)), NOW)


def test_yearly_perk_limit() -> None:
    platinum = history(30_000)
    uses = (("free_onsite_repair", NOW - DAY), ("free_onsite_repair", NOW - 2 * DAY))
    with pytest.raises(InvalidInput):
        quote(TIERS, 1, CustomerState(0, platinum, uses),
              OrderDraft(1_000 * RUB, use=("free_onsite_repair",)), NOW)


def test_windowed_tiers_drop_after_the_grace_period() -> None:
    windowed = replace(TIERS, tier_window_months=12, downgrade_grace_days=30)
    old = tuple(PaidOrder(NOW - 400 * DAY, 1_000 * RUB) for _ in range(3))
    assert tier_index(windowed, old, NOW) is None
    assert tier_index(windowed, old, NOW - 50 * DAY) == 1  # Silver while in the window
    assert tier_index(replace(windowed, downgrade_grace_days=None), old, NOW) == 1  # never lost


amounts = st.integers(0, 500_000 * RUB)


@given(amounts, st.integers(0, 100_000), st.integers(0, 30))
def test_redemption_never_exceeds_cap_or_balance(total: int, balance: int, visits: int) -> None:
    result = quote(DEMO, 1, CustomerState(balance, history(*[1_000] * visits)),
                   OrderDraft(total), NOW)
    assert result.max_redeem_points <= balance
    assert result.max_redeem_points * DEMO.point_value <= (total - result.total_discount) * 2000 \
        // 10_000
    assert result.paid >= 0


@given(amounts, amounts)
def test_accrual_never_decreases_when_the_amount_grows(a: int, b: int) -> None:
    low, high = sorted((a, b))
    bonus = PRESETS["bonus_5_20"]
    assert quote(bonus, 1, CustomerState(0), OrderDraft(low), NOW).accrue_points <= \
        quote(bonus, 1, CustomerState(0), OrderDraft(high), NOW).accrue_points


@given(st.lists(st.integers(1, 40_000), max_size=20), st.integers(1, 40_000))
def test_more_history_never_gives_a_lower_tier(amounts_rub: list[int], extra: int) -> None:
    orders = history(*amounts_rub)
    more = (*orders, PaidOrder(NOW, extra * RUB))
    rank = [-1 if i is None else i for i in (tier_index(TIERS, orders, NOW),
                                              tier_index(TIERS, more, NOW))]
    assert rank[1] >= rank[0]


def test_mechanic_none_earns_nothing() -> None:
    assert TIERS.mechanic is Mechanic.NONE
    assert quote(TIERS, 1, CustomerState(100), OrderDraft(1_000 * RUB), NOW).accrue_points == 0


def test_a_tier_never_gives_less_than_the_discount_card() -> None:
    card_with_tiers = replace(TIERS, mechanic=Mechanic.DISCOUNT, discount_bp=500)
    base = quote(card_with_tiers, 1, CustomerState(0, history(500)), OrderDraft(1_000 * RUB), NOW)
    assert (base.tier_before, base.discount_bp) == ("Базовый", 500)  # the card's 5 % > 3 %
    gold = quote(card_with_tiers, 1, CustomerState(0, history(*[1_000] * 7)),
                 OrderDraft(1_000 * RUB), NOW)
    assert gold.discount_bp == 1000


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_quote_line_reads_in_both_languages(lang: str) -> None:
    from webapp.domain.quote_text import explain

    windowed = replace(DEMO, tier_window_months=12, downgrade_grace_days=30)
    orders = history(*[3_000] * 5, category="oil_change")
    result = quote(windowed, 1, CustomerState(2_000, orders),
                   OrderDraft(3_000 * RUB, "oil_change", redeem_points=0), NOW)
    paid = quote(windowed, 1, CustomerState(2_000, orders[:4]),
                 OrderDraft(10_000 * RUB, "repair", redeem_points=100), NOW)
    lines = explain(result, words_for(lang)) + explain(paid, words_for(lang))
    codes = {line.code for line in (*result.lines, *paid.lines)}
    assert {"stamp_reward", "discount", "max_redeem", "redeem", "accrue", "next_tier",
            "keep_tier", "stamps"} <= codes
    assert all(text.strip() and "{" not in text for text in lines)
    joined = " ".join(lines)
    assert ("Начислим" in joined) == (lang == "ru") and ("Earns" in joined) == (lang == "en")
