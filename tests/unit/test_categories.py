"""A category's code from its Russian name, the checks of what the owner types, the
name shown in each language, and the starting list."""

from __future__ import annotations

import pytest

from webapp.domain import categories
from webapp.domain.errors import InvalidInput
from webapp.domain.presets import PRESETS


@pytest.mark.parametrize(("name", "code"), [
    ("Замена масла", "zamena_masla"),
    ("Шиномонтаж", "shinomontazh"),
    ("Диагностика ходовой", "diagnostika_khodovoy"),
    ("Щётки стеклоочистителя", "shchetki_stekloochistitelya"),
    ("Подъезд, въезд и съезд", "podezd_vezd_i_sezd"),
    ("ТО-1 (15 000 км)", "to_1_15_000_km"),
    ("  Oil change!  ", "oil_change"),
    ("Ремонт   КПП", "remont_kpp"),
    ("Цена/качество", "tsena_kachestvo"),
    ("4x4 сервис", "c_4x4_servis"),
    ("!!!", "category"),
    ("中文", "category"),
])
def test_a_code_is_the_russian_name_transliterated(name: str, code: str) -> None:
    assert categories.code_from_name(name) == code
    assert categories.CODE.fullmatch(code)


def test_a_long_name_gives_a_code_that_fits() -> None:
    code = categories.code_from_name("Щ" * 100)
    assert len(code) <= categories.CODE_MAX and code.startswith("shch")
    assert not categories.code_from_name("а" * 63 + " б").endswith("_")


def test_every_russian_letter_has_a_latin_spelling() -> None:
    alphabet = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
    spelled = categories.transliterate(alphabet + alphabet.upper())
    assert spelled.isascii() and spelled.islower()


@pytest.mark.parametrize("code", ["oil_change", "a", "tyres2", "x" * 64])
def test_a_typed_code_may_be_a_slug(code: str) -> None:
    assert categories.check_code(f" {code} ") == code


@pytest.mark.parametrize("code", ["", "Oil", "2tyres", "_x", "oil-change", "масло",
                                  "oil change", "x" * 65])
def test_a_typed_code_must_be_a_slug(code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        categories.check_code(code)
    assert refused.value.code == "category_code_malformed"


def test_names_are_trimmed_and_limited() -> None:
    assert categories.check_name_ru("  Замена \n масла ") == "Замена масла"
    assert categories.check_name_ru("Замена\x01 масла\u200e") == "Замена масла"
    assert categories.check_name_en("  ") is None
    assert categories.check_name_en(" Oil  change ") == "Oil change"
    assert categories.check_name_ru("Я" * 100) == "Я" * 100
    for bad, code in (("", "category_name_missing"), ("   ", "category_name_missing"),
                      ("Я" * 101, "category_name_too_long")):
        with pytest.raises(InvalidInput) as refused:
            categories.check_name_ru(bad)
        assert refused.value.code == code
    with pytest.raises(InvalidInput) as refused:
        categories.check_name_en("x" * 101)
    assert refused.value.code == "category_name_too_long"


def test_a_kind_is_work_part_or_other() -> None:
    assert [categories.check_kind(k) for k in ("work", "part", "other")] == \
        ["work", "part", "other"]
    with pytest.raises(InvalidInput) as refused:
        categories.check_kind("service")
    assert refused.value.code == "category_kind_unknown"


def test_the_name_shown_falls_back_to_russian() -> None:
    assert categories.shown_name("Замена масла", "Oil change", "en") == "Oil change"
    assert categories.shown_name("Замена масла", "Oil change", "ru-RU") == "Замена масла"
    assert categories.shown_name("Замена масла", None, "en") == "Замена масла"


def test_the_starting_list_holds_what_the_presets_stamp_cards_count() -> None:
    codes = [seed.code for seed in categories.STARTING]
    assert len(set(codes)) == len(codes)
    assert all(categories.CODE.fullmatch(code) for code in codes)
    cards = {card.category for preset in PRESETS.values() for card in preset.stamp_cards}
    assert cards and cards <= set(codes)
    kinds = {seed.code: seed.kind for seed in categories.STARTING}
    assert (kinds["oil_change"], kinds["parts"], kinds["consumables"]) == \
        ("work", "part", "part")
