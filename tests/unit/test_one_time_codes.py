"""One-time codes (sign-in and redemption confirmations): the shared rules, no database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from webapp.domain import one_time_codes as codes
from webapp.domain.errors import Conflict
from webapp.domain.one_time_codes import Purpose, TooManyCodes
from webapp.error_messages import describe

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_a_new_code_is_six_digits() -> None:
    made = {codes.new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isascii() and c.isdigit() for c in made)
    assert len(made) > 150  # random, not a counter


def test_the_stored_hashes_keep_their_old_formats() -> None:
    # Codes texted before a deploy must still match after it.
    assert codes.code_hash(Purpose.SIGN_IN, 7, "123456") == hashlib.sha256(
        b"sign-in:7:123456").hexdigest()
    assert codes.code_hash(Purpose.REDEMPTION, 7, "123456") == hashlib.sha256(
        b"7:123456").hexdigest()


def test_matching_ignores_spaces_and_never_crosses_purposes_or_rows() -> None:
    stored = codes.code_hash(Purpose.SIGN_IN, 3, "042042")
    assert codes.matches(stored, Purpose.SIGN_IN, 3, " 042042 ")
    assert not codes.matches(stored, Purpose.SIGN_IN, 3, "042043")
    assert not codes.matches(stored, Purpose.SIGN_IN, 4, "042042")
    assert not codes.matches(stored, Purpose.REDEMPTION, 3, "042042")
    assert not codes.matches(stored, Purpose.SIGN_IN, 3, None)


def test_lifetime_and_attempts() -> None:
    expires = codes.expires_at(NOW)
    assert expires == NOW + timedelta(minutes=5)
    assert codes.usable(used_at=None, expires_at=expires, attempts=4, now=NOW)
    assert not codes.usable(used_at=None, expires_at=expires, attempts=5, now=NOW)
    assert not codes.usable(used_at=None, expires_at=expires, attempts=0, now=expires)
    assert not codes.usable(used_at=NOW, expires_at=expires, attempts=0, now=NOW)
    assert codes.attempts_left(2) == 3


@pytest.mark.parametrize(("purpose", "code", "russian"), [
    (Purpose.SIGN_IN, "too_many_sign_in_codes", "Слишком много запросов кода"),
    (Purpose.REDEMPTION, "too_many_codes", "Этому клиенту за последний час отправлено"),
])
def test_one_error_type_keeps_each_features_code(purpose: Purpose, code: str,
                                                  russian: str) -> None:
    error = TooManyCodes(purpose=purpose, n=1)
    assert isinstance(error, Conflict) and error.status == 429
    assert error.code == code and error.purpose is purpose
    assert error.category == "too_many_codes" and error.params == {"n": 1}
    assert describe(error, "ru").startswith(russian)  # the words follow the code
