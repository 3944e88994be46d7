"""The program in words: one sentence per program, the seed table read back, warnings."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from webapp.catalogue import words_for
from webapp.domain.presets import DEMO, PRESETS
from webapp.domain.program import (
    Bonuses,
    InvalidSetting,
    Mechanic,
    ProgramSettings,
    StampCard,
    Tier,
    Warning,
    validate,
)
from webapp.domain.rules_text import describe, format_percent, warning_text

NBSP, NNBSP = "\u00a0", "\u202f"
ALL = {**PRESETS, "demo": DEMO}


def is_one_sentence(text: str) -> bool:
    """Exactly one sentence end, at the end. The point of "2.5%" ends nothing."""
    body = re.sub(r"\d\.\d", "0,0", text)
    return (bool(body.strip()) and body == body.strip() and "\n" not in body
            and body[-1] in ".!?" and not re.search(r"[.!?…]", body[:-1]))


def plain(text: str) -> str:
    return text.replace(NBSP, " ").replace(NNBSP, " ")


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("name", sorted(ALL))
def test_every_preset_is_one_sentence(name: str, lang: str) -> None:
    text = describe(ALL[name], words_for(lang))
    assert is_one_sentence(text.sentence), text.sentence
    assert all(line.strip() and "\n" not in line for line in text.details)


@pytest.mark.parametrize(("name", "numbers"), [
    ("bonus_5_20", ["5", "20"]), ("cashback_5_50", ["5", "50"]), ("discount_5", ["5"]),
    ("service_tiers", ["3", "15"]), ("car_service", ["5"]), ("demo", ["5", "20", "3", "15"]),
])
def test_the_sentence_has_the_key_numbers(name: str, numbers: list[str]) -> None:
    ru = describe(ALL[name], words_for("ru")).sentence
    en = describe(ALL[name], words_for("en")).sentence
    assert f"{numbers[0]}{NBSP}%" in ru and f"{numbers[0]}%" in en
    for sentence in (ru, en):  # ranges ("3–15 %") carry the sign once
        assert set(numbers) <= set(re.findall(r"\d+", sentence)), sentence


def test_the_seeds_recommended_start_reads_as_the_seed_says() -> None:
    assert plain(describe(PRESETS["bonus_5_20"], words_for("ru")).sentence) == (
        "5 % от каждого заказа возвращается бонусами, ими можно оплатить до 20 % следующего"
        " заказа.")
    assert describe(PRESETS["bonus_5_20"], words_for("en")).sentence == (
        "5% of every order comes back as points, and you can pay up to 20% of your next order"
        " with them.")


def test_the_four_tier_table_can_be_read_back_from_the_details() -> None:
    details = [plain(line) for line in describe(PRESETS["service_tiers"], words_for("ru")).details]
    text = "\n".join(details)
    for word in ("Базовый", "Серебряный", "от 3", "Золотой", "15 000 ₽", "Платиновый",
                 "30 000 ₽", "SMS-уведомления", "приоритетный ремонт"):
        assert word in text
    assert "Золотой — от 7 заказов или от 15 000 ₽: скидка 10 %, бесплатная диагностика." \
        in details
    assert details[0].startswith("Базовый — от 1 заказа: скидка 3 %")
    english = "\n".join(describe(PRESETS["service_tiers"], words_for("en")).details)
    assert "Платиновый — from 15 orders or from ₽30,000 spent: 15% off" in english


def test_tier_sentence() -> None:
    assert plain(describe(PRESETS["service_tiers"], words_for("ru")).sentence) == (
        "Чем чаще вы у нас, тем выше уровень и скидка: от 3 % на уровне «Базовый» до 15 % на"
        " уровне «Платиновый».")


def test_stamp_cards_alone() -> None:
    card = PRESETS["car_service"].stamp_cards[0]
    only = ProgramSettings(mechanic=Mechanic.NONE, stamp_cards=(card,))
    assert describe(only, words_for("ru")).sentence == "Каждая 6-я замена масла — бесплатно."
    assert describe(only, words_for("en")).sentence == "Every 6th oil change is free."
    two = replace(only, stamp_cards=(card, StampCard("car_wash", "Мойка", every=10,
                                                     reward_bp=5000, per_asset=True)))
    assert plain(describe(two, words_for("ru")).sentence) == (
        "Каждая 6-я замена масла — бесплатно, а каждая 10-я мойка — со скидкой 50 %.")
    assert "по каждому автомобилю" in describe(two, words_for("ru")).details[0]


def test_details_expiry_bonuses_minimum_and_point_value() -> None:
    demo = [plain(line) for line in describe(DEMO, words_for("ru")).details]
    assert "Бонусы сгорают через 12 месяцев; мы напомним заранее." in demo
    assert "За регистрацию — 100 бонусов." in demo
    assert any("Каждая 6-я замена масла" in line for line in demo)
    custom = replace(PRESETS["bonus_5_20"], min_order_for_redeem=100_000, point_value=50,
                     expiry_months=None)
    ru = [plain(line) for line in describe(custom, words_for("ru")).details]
    assert "Бонусы не сгорают." in ru
    assert "Оплатить бонусами можно заказ от 1 000 ₽." in ru
    assert "1 бонус = 0,50 ₽." in ru
    assert "1 point = ₽0.50." in describe(custom, words_for("en")).details


def test_unknown_language_is_english() -> None:
    discount = PRESETS["discount_5"]
    assert describe(discount, words_for("de")) == describe(discount, words_for("en"))
    assert describe(discount, words_for("ru-RU")) == describe(discount, words_for("ru"))


@pytest.mark.parametrize(("bp", "ru", "en"), [
    (500, f"5{NBSP}%", "5%"), (250, f"2,5{NBSP}%", "2.5%"), (1234, f"12,34{NBSP}%", "12.34%"),
    (10_000, f"100{NBSP}%", "100%"), (0, f"0{NBSP}%", "0%"), (5, f"0,05{NBSP}%", "0.05%"),
])
def test_format_percent(bp: int, ru: str, en: str) -> None:
    assert (format_percent(bp, "ru"), format_percent(bp, "en")) == (ru, en)


@pytest.mark.parametrize(("warning", "ru_numbers", "en_numbers"), [
    (Warning("discount_bp", "discount_over_20", {"bp": 2500}),
     ["25 %", "10 000 ₽", "2 500 ₽"], ["25%", "₽10,000", "₽2,500"]),
    (Warning("redeem_cap_bp", "redeem_cap_over_50", {"bp": 6000}),
     ["60 %", "10 000 ₽", "4 000 ₽"], ["60%", "₽10,000", "₽4,000"]),
    (Warning("accrual_bp", "accrual_over_10", {"bp": 1500}),
     ["15 %", "1 500 ₽"], ["15%", "₽1,500"]),
    (Warning("expiry_months", "expiry_under_3_months", {"months": 2}),
     ["2 месяца"], ["2 months"]),
    (Warning("stamp_cards", "stamp_every_under_4", {"every": 3}),
     ["3-й", "33 %", "3 333 ₽"], ["3rd", "33%", "₽3,333"]),
])
def test_warnings_say_what_they_cost(warning: Warning, ru_numbers: list[str],
                                     en_numbers: list[str]) -> None:
    ru = plain(warning_text(warning, words_for("ru")))
    en = plain(warning_text(warning, words_for("en")))
    assert all(number in ru for number in ru_numbers), ru
    assert all(number in en for number in en_numbers), en
    assert ru != en


def test_the_seed_warning_text() -> None:
    text = warning_text(Warning("discount_bp", "discount_over_20", {"bp": 2500}))
    assert plain(text) == ("Скидка 25 % «для всех» съедает маржу: с каждых 10 000 ₽ выручки вы"
                           " отдаёте 2 500 ₽. Начните с 3–5 % и повышайте для активных"
                           " клиентов.")


def test_every_warning_of_the_presets_renders() -> None:
    for settings in ALL.values():
        for warning in validate(settings):
            assert warning.code not in warning_text(warning, words_for("ru"))


# -- any valid program is one sentence ----------------------------------------------

rates = st.integers(0, 9_999)
caps = st.integers(0, 10_000)
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1,
                max_size=30)


@st.composite
def tiers(draw: st.DrawFn) -> tuple[Tier, ...]:
    tiers_, orders, spend = [], 0, 0
    for template in draw(st.lists(st.sampled_from(PRESETS["service_tiers"].tiers),
                                  max_size=5)):
        orders += draw(st.integers(1, 10))
        spend += draw(st.integers(1, 100_000_00))
        tiers_.append(replace(
            template, name=draw(st.one_of(st.just(template.name), texts)),
            min_orders=orders, min_spend=draw(st.one_of(st.none(), st.just(spend))),
            discount_bp=draw(rates),
            accrual_bp=draw(st.one_of(st.none(), rates)),
            redeem_cap_bp=draw(st.one_of(st.none(), caps))))
    return tuple(tiers_)


@st.composite
def valid_settings(draw: st.DrawFn) -> ProgramSettings:
    base = draw(st.sampled_from(sorted(ALL)))
    mechanic = draw(st.sampled_from(Mechanic))
    card = StampCard(draw(st.sampled_from(["oil_change", "tyres", "maintenance", "custom"])),
                     draw(texts), every=draw(st.integers(2, 100)),
                     reward_bp=draw(st.integers(1, 10_000)),
                     per_asset=draw(st.booleans()))
    points = mechanic in (Mechanic.BONUS, Mechanic.CASHBACK)
    settings = replace(
        ALL[base], mechanic=mechanic, discount_bp=draw(rates), accrual_bp=draw(rates),
        redeem_cap_bp=draw(caps), point_value=draw(st.integers(1, 1000)),
        min_order_for_redeem=draw(st.integers(0, 10**7)),
        expiry_months=draw(st.one_of(st.none(), st.integers(1, 120))),
        accrue_on_redeemed=draw(st.booleans()), tiers=draw(tiers()),
        stamp_cards=tuple(draw(st.lists(st.just(card), max_size=2))),
        bonuses=Bonuses(welcome=draw(st.integers(0, 1000)) * points,
                        referral=draw(st.integers(0, 1000)) * points,
                        birthday=draw(st.integers(0, 1000)) * points,
                        gift_visit=draw(st.one_of(st.none(), st.integers(2, 20))),
                        gift_title=draw(texts)))
    try:
        validate(settings)
    except InvalidSetting:
        assume(False)
    return settings


@given(valid_settings(), st.sampled_from(["ru", "en", "xx"]),
       st.sampled_from(["RUB", "USD", "KZT"]))
def test_any_valid_program_is_one_plain_sentence(settings: ProgramSettings, lang: str,
                                                 currency: str) -> None:
    text = describe(settings, words_for(lang), currency)
    assert is_one_sentence(text.sentence), text.sentence
    assert all(line.strip() and "\n" not in line for line in text.details)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_line_rules_and_a_fixed_stamp_reward_are_said(lang: str) -> None:
    from dataclasses import replace

    from webapp.catalogue import words_for
    from webapp.domain.presets import PRESETS
    from webapp.domain.program import LineRule, StampCard

    settings = replace(PRESETS["discount_5"], line_rules=(
        LineRule(kind="part", accrual_bp=0, discounted=False),), stamp_cards=(
        StampCard("oil_change", "Каждая 6-я замена масла", 6, reward_minor=150_000),))
    details = describe(settings, words_for(lang)).details
    said = " ".join(details).replace("\u202f", " ").replace("\u00a0", " ")
    if lang == "ru":
        assert "Запчасти: скидка карты и уровня не действует." in said
        assert "скидка до 1 500 ₽ на эту позицию заказа" in said
        assert "без баллов" not in said  # a discount card earns no points anyway
    else:
        assert "Parts: the card and tier discount does not apply." in said
        assert "up to ₽1,500 off that line of the order" in said
