"""Asset search keys, actor roles, and error messages."""

import subprocess
import sys

import pytest

from webapp.domain import assets
from webapp.domain.actor import Actor, Role
from webapp.domain.errors import InsufficientPoints, InvalidInput


@pytest.mark.parametrize(("typed", "key"), [
    ("а123вс 777", "A123BC777"),  # Cyrillic, lower case, space
    ("A123BC777", "A123BC777"),  # the same plate typed in Latin
    ("sn-00 12", "SN0012"),
])
def test_search_key_folds_case_spaces_and_lookalikes(typed: str, key: str) -> None:
    assert assets.search_key(typed) == key


@pytest.mark.parametrize(("kind", "value"), [
    ("boat", "A123BC77"), ("plate", "A"), ("vin", "1HGCM82633A00435"),
    ("vin", "1HGCM82633A00435O"), ("imei", "12345678901234X"),
    ("plate", "АВСЕКМ"), ("plate", "A123BC777A123"),  # no digit; longer than a plate
])
def test_validate_refuses_bad_assets(kind: str, value: str) -> None:
    with pytest.raises(InvalidInput):
        assets.validate(kind, value)


def test_a_plate_has_a_digit_and_at_most_twelve_characters() -> None:
    assert assets.validate("plate", " а123вс 777 ") == ("а123вс 777", "A123BC777")
    assert assets.validate("plate", "AB-1234-CD")[1] == "AB1234CD"  # a foreign plate
    with pytest.raises(InvalidInput, match="plate_malformed"):
        assets.validate("plate", "ЛАДА ВЕСТА")


def test_validate_accepts_a_vin_and_an_imei() -> None:
    assert assets.validate("vin", "1HGCM82633A004352") == ("1HGCM82633A004352",
                                                            "1HGCM82633A004352")
    assert assets.validate("imei", "490154203237518")[1] == "490154203237518"


def test_roles_are_ordered() -> None:
    cashier = Actor.staff(1, 1, Role.CASHIER)
    owner = Actor.staff(1, 2, Role.OWNER)
    assert not cashier.is_at_least(Role.MANAGER)
    assert owner.is_at_least(Role.MANAGER)
    assert Actor.system(1).is_at_least(Role.OWNER)


def test_an_error_is_a_code_and_params_its_class_the_category() -> None:
    error = InsufficientPoints("points_short", available=3, requested=5)
    assert str(error) == "points_short(available=3, requested=5)"
    assert error.params == {"available": 3, "requested": 5}
    assert error.status == 409 and error.code == "points_short"
    assert error.category == "insufficient_points"
    assert InsufficientPoints().code == "insufficient_points"


def test_domain_imports_without_flask_or_sqlalchemy() -> None:
    code = ("import sys, webapp.domain.ledger, webapp.domain.cards, webapp.domain.actor, "
            "webapp.domain.assets; "
            "print(sorted(m for m in ('flask', 'sqlalchemy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
