"""The estimate costs what the counter gives: the quote's discount rule at every tier,
perks and visit gifts at the owner's value, referral bonuses, SMS at the business's price."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from webapp.catalogue import words_for
from webapp.domain.estimate_text import estimate_text
from webapp.domain.presets import DEMO, PRESETS, SERVICE_TIERS
from webapp.domain.program import (
    Bonuses,
    Entitlement,
    InvalidSetting,
    Mechanic,
    Period,
    ProgramSettings,
    Tier,
    from_dict,
    to_dict,
    validate,
)
from webapp.domain.quote import CustomerState, OrderDraft, quote
from webapp.domain.simulation import Assumptions, simulate
from webapp.domain.tiers import PaidOrder

RUB = 100
NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)
REVENUE = 22_500_000  # the typical numbers: 300 customers × 0.25 visits × 3 000 ₽
# A 20 % discount card with the service centre's tiers (3, 5, 10, 15 %).
CARD_20 = ProgramSettings(mechanic=Mechanic.DISCOUNT, discount_bp=2000, accrual_bp=0,
                          redeem_cap_bp=0, expiry_months=None, tiers=SERVICE_TIERS)


def only_tier(index: int) -> Assumptions:
    mix = [0] * len(SERVICE_TIERS)
    mix[index] = 10_000
    return Assumptions(tier_mix_bp=tuple(mix), message_cost=0)


@pytest.mark.parametrize("index", range(len(SERVICE_TIERS)))
def test_a_20_percent_card_with_tiers_costs_20_percent_at_every_tier(index: int) -> None:
    e = simulate(CARD_20, only_tier(index))
    assert e.discounts == REVENUE * 20 // 100
    assert e.total_cost == e.discounts


@pytest.mark.parametrize("index", range(len(SERVICE_TIERS)))
def test_the_estimate_gives_each_tier_the_rate_the_quote_gives(index: int) -> None:
    for settings in (CARD_20, replace(CARD_20, discount_bp=700), PRESETS["service_tiers"]):
        tier = settings.tiers[index]
        orders = tuple(PaidOrder(NOW - timedelta(days=30 + n), 3_000 * RUB)
                       for n in range(tier.min_orders or 0))
        counter = quote(settings, 1, CustomerState(0, orders), OrderDraft(10_000 * RUB), NOW)
        assert counter.tier_before == tier.name
        estimate = simulate(settings, only_tier(index))
        assert estimate.discounts * 10_000 // REVENUE == counter.discount_bp


def test_a_7_percent_card_keeps_7_percent_where_the_tier_gives_less() -> None:
    mixed = simulate(replace(CARD_20, discount_bp=700), Assumptions(message_cost=0))
    # 50/30/15/5 % of revenue at max(7, 3)/max(7, 5)/max(7, 10)/max(7, 15) %.
    assert mixed.discounts == REVENUE * (5000 * 7 + 3000 * 7 + 1500 * 10 + 500 * 15) \
        // 1_000_000


PRICED_TIERS = tuple(
    replace(t, entitlements=tuple(replace(e, value_minor=1_500 * RUB)
                                  if e.code == "free_diagnostics"
                                  else replace(e, value_minor=4_000 * RUB)
                                  for e in t.entitlements))
    for t in SERVICE_TIERS)


def test_perks_are_costed_at_their_value_and_assumed_use() -> None:
    program = replace(PRESETS["service_tiers"], tiers=PRICED_TIERS)
    e = simulate(program, Assumptions(message_cost=0))
    lines = {p["title"]: p for code, p in e.lines if code == "perk"}
    # 75 visits; Gold 15 % + Platinum 5 % of them; half the limit used: 7.5 diagnostics.
    assert lines["Бесплатная диагностика"]["uses_x10"] == 75
    assert lines["Бесплатная диагностика"]["amount"] == 75 * 1_500 * RUB // 10
    # 2 a year for Platinum (5 % of 300 customers = 15): 15 × 2 / 12 × 50 % = 1.25 a month.
    assert lines["Выездной ремонт бесплатно"]["amount"] == 125 * 4_000 * RUB // 100
    assert e.perks == 75 * 1_500 * RUB // 10 + 125 * 4_000 * RUB // 100
    assert e.total_cost == e.discounts + e.perks
    assert not [p for code, p in e.lines if code == "not_counted"]
    assert simulate(program, Assumptions(message_cost=0, perk_use_bp=10_000)).perks \
        == 2 * e.perks


def test_perks_without_a_value_are_named_as_not_counted() -> None:
    e = simulate(PRESETS["service_tiers"], Assumptions())
    assert e.perks == 0
    assert ("not_counted", {"what": "perks",
                            "titles": "Бесплатная диагностика\nВыездной ремонт бесплатно"}
            ) in e.lines
    text = estimate_text(e, words_for("ru"), "RUB")
    assert any("«Бесплатная диагностика», «Выездной ремонт бесплатно»" in t for t in text)


def test_the_visit_gift_is_costed_when_it_has_a_value() -> None:
    car = PRESETS["car_service"]
    priced = replace(car, bonuses=replace(car.bonuses, gift_value_minor=500 * RUB))
    e = simulate(priced, Assumptions())
    # 15 new customers a month (5 % of 300), half of them reach the 3rd visit: 7.5 gifts.
    gift = dict(e.lines)["gift"]
    assert (gift["gifts_x10"], gift["amount"]) == (75, 75 * 500 * RUB // 10)
    assert e.perks == gift["amount"]
    assert e.total_cost == simulate(car, Assumptions()).total_cost + gift["amount"]
    assert not any(code == "not_counted" for code, _ in e.lines)
    ru = estimate_text(e, words_for("ru"), "RUB")
    assert any(t.startswith("Подарок на 3-й визит — 3\u202f750\u00a0₽ (7,5 подарка") for t in ru)


def test_referral_bonuses_are_costed_with_the_share_of_friends_as_an_assumption() -> None:
    bonus = replace(PRESETS["bonus_5_20"], bonuses=Bonuses(referral=300))
    e = simulate(bonus, Assumptions(referral_share_bp=2000))
    referral = dict(e.lines)["referral"]
    # 15 newcomers × 20 % = 3 friends; 300 points to both sides; 70 % are spent; 1 ₽ each.
    assert referral["customers"] == 3 and referral["share_bp"] == 2000
    assert referral["amount"] == 3 * 2 * 300 * 100 * 70 // 100
    plain = simulate(PRESETS["bonus_5_20"], Assumptions())
    assert e.points_cost == plain.points_cost + referral["amount"]
    en = estimate_text(e, words_for("en"), "RUB")
    assert any("Referral bonuses" in line and "20% of new customers" in line for line in en)


def test_sms_are_costed_at_the_given_price() -> None:
    e = simulate(PRESETS["bonus_5_20"], Assumptions(message_cost=250))
    assert e.messages == 300 * 250  # one SMS per customer a month
    ru = estimate_text(e, words_for("ru"), "RUB")
    assert any("(300 × 2,50\u00a0₽)" in line for line in ru)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_new_line_has_words(lang: str) -> None:
    demo = replace(DEMO, tiers=PRICED_TIERS, bonuses=replace(
        DEMO.bonuses, gift_visit=3, gift_title="Лампочка", gift_value_minor=100 * RUB))
    e = simulate(demo, Assumptions())
    codes = [code for code, _ in e.lines]
    assert {"perk", "gift", "referral"} <= set(codes)
    assert all(line.strip() for line in estimate_text(e, words_for(lang), "RUB"))


def test_perk_and_gift_values_are_validated_and_old_json_still_reads() -> None:
    stored = to_dict(DEMO)
    for tier in stored["tiers"]:
        for perk in tier["entitlements"]:
            del perk["value_minor"]
    del stored["bonuses"]["gift_value_minor"]
    assert from_dict(stored) == DEMO
    bad_perk = Tier("A", min_orders=1, entitlements=(
        Entitlement("x", "X", 1, Period.VISIT, value_minor=-1),))
    with pytest.raises(InvalidSetting) as error:
        validate(replace(DEMO, tiers=(bad_perk,)))
    assert error.value.params["field"] == "tiers[0].entitlements[0].value_minor"
    with pytest.raises(InvalidSetting) as error:
        validate(replace(DEMO, bonuses=replace(DEMO.bonuses, gift_value_minor=-5)))
    assert error.value.params["field"] == "bonuses.gift_value_minor"


def test_car_service_counts_oil_changes_per_vehicle() -> None:
    assert [card.per_asset for card in PRESETS["car_service"].stamp_cards] == [True]
