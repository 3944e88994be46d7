"""Program settings: validation of impossible values, warnings for costly ones."""

from dataclasses import replace

import pytest

from webapp.domain.presets import DEMO, PRESETS
from webapp.domain.program import InvalidSetting, Tier, from_dict, to_dict, validate


@pytest.mark.parametrize("name", [*PRESETS, "demo"])
def test_presets_are_valid_and_round_trip(name: str) -> None:
    settings = DEMO if name == "demo" else PRESETS[name]
    validate(settings)
    assert from_dict(to_dict(settings)) == settings


@pytest.mark.parametrize(("changes", "field"), [
    ({"accrual_bp": 0}, "accrual_bp"), ({"redeem_cap_bp": 0}, "redeem_cap_bp"),
    ({"discount_bp": 10_000}, "discount_bp"), ({"accrual_bp": -5}, "accrual_bp"),
    ({"expiry_months": 0}, "expiry_months"), ({"point_value": 0}, "point_value"),
    ({"tiers": (Tier("A", min_orders=5), Tier("B", min_orders=3))}, "tiers[1]"),
    ({"tiers": (Tier("A"),)}, "tiers[0]"), ({"downgrade_grace_days": 30}, "downgrade_grace_days"),
])
def test_impossible_values_are_refused_naming_the_field(changes: dict, field: str) -> None:
    with pytest.raises(InvalidSetting) as caught:
        validate(replace(PRESETS["bonus_5_20"], **changes))
    assert caught.value.params.get("field") == field


def test_a_tier_may_add_a_new_path() -> None:
    # B needs no more orders than A, but adds spending as a path: accepted, no warning.
    assert validate(replace(PRESETS["bonus_5_20"], tiers=(Tier("A", min_orders=1),
                                                          Tier("B", min_spend=1_000_000)))) == []


@pytest.mark.parametrize(("changes", "code"), [
    ({"redeem_cap_bp": 6000}, "redeem_cap_over_50"), ({"accrual_bp": 1500}, "accrual_over_10"),
    ({"expiry_months": 2}, "expiry_under_3_months"),
])
def test_generous_values_are_allowed_with_a_warning(changes: dict, code: str) -> None:
    assert code in [w.code for w in validate(replace(PRESETS["bonus_5_20"], **changes))]


def test_a_big_discount_warns() -> None:
    assert [w.code for w in validate(replace(PRESETS["discount_5"], discount_bp=2500))] == [
        "discount_over_20"]


def test_malformed_settings_are_refused() -> None:
    with pytest.raises(InvalidSetting):
        from_dict({"mechanic": "lottery"})
    with pytest.raises(InvalidSetting):
        from_dict({"tiers": [{"nme": "typo"}]})
