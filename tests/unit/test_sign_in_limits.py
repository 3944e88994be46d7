"""The staff sign-in policy alone: hard limits per login and address and per address,
a growing delay per login, fixed 15-minute windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from webapp.domain.sign_in_limits import (
    Count,
    Limit,
    delay,
    keys,
    refusal,
    window_start,
)

NOW = datetime(2026, 12, 3, 10, 7, 30, tzinfo=UTC)
NONE = Count(0)


def test_nothing_counted_lets_the_attempt_through() -> None:
    assert refusal((NONE, NONE, NONE), NOW) is None


def test_ten_from_one_address_for_one_login_stop_that_pair_until_the_window_ends() -> None:
    refused = refusal((Count(10, NOW), Count(10, NOW), Count(10, NOW - timedelta(hours=1))),
                      NOW)
    assert refused is not None and refused.limit is Limit.LOGIN_AND_ADDRESS
    assert refused.retry_after == timedelta(minutes=7, seconds=30)  # the window ends at 10:15
    assert refusal((Count(9, NOW), NONE, NONE), NOW) is None


def test_thirty_from_one_address_stop_it_for_every_login() -> None:
    refused = refusal((NONE, Count(30, NOW), NONE), NOW)
    assert refused is not None and refused.limit is Limit.ADDRESS


def test_a_login_is_slowed_down_never_locked() -> None:
    assert [delay(n).total_seconds() for n in range(4, 12)] == [0, 2, 4, 8, 16, 32, 60, 60]
    assert delay(1000) == timedelta(seconds=60)
    just_failed = Count(7, NOW - timedelta(seconds=3))  # 7 attempts: wait 8 s after the last
    refused = refusal((NONE, NONE, just_failed), NOW)
    assert refused is not None and refused.limit is Limit.LOGIN
    assert refused.retry_after == timedelta(seconds=5)
    assert refusal((NONE, NONE, Count(7, NOW - timedelta(seconds=8))), NOW) is None


def test_windows_are_fixed_quarter_hours() -> None:
    assert window_start(NOW) == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert window_start(NOW + timedelta(minutes=8)) == datetime(2026, 12, 3, 10, 15, tzinfo=UTC)


def test_keys_separate_businesses_logins_and_addresses_and_ignore_case() -> None:
    first = keys(1, " Owner ", "203.0.113.9")
    assert first == keys(1, "owner", "203.0.113.9")
    assert first.last != keys(2, "owner", "203.0.113.9").last
    assert first.address == keys(2, "someone", "203.0.113.9").address
    assert first.first != keys(1, "owner", "203.0.113.10").first
    assert len(set(first.all())) == 3


def test_no_typed_login_can_take_another_key() -> None:
    """A stranger typing "owner@<the shop's address>" must not count against the owner's
    attempts from the shop (the keys were once plain joined strings)."""
    shop = keys(1, "owner", "198.51.100.20")
    forged = [keys(1, "owner@198.51.100.20", "203.0.113.9"),
              keys(1, "owner:198.51.100.20", "203.0.113.9"),
              keys(1, '1", "owner', "198.51.100.20")]
    mine = set(shop.all())
    for attempt in forged:
        assert not mine & {attempt.first, attempt.last}


def test_a_known_device_has_its_own_hard_limit_and_no_shared_delay() -> None:
    device = keys(1, "owner", "198.51.100.20", known_device="abc")
    assert device.known_device and device.first == device.last
    assert device.first not in keys(1, "owner", "198.51.100.20").all()
    assert device.first != keys(1, "owner", "198.51.100.20", known_device="xyz").first
    busy = Count(40, NOW)  # the login's delay and the address kept busy by a stranger
    assert refusal((Count(3, NOW), busy, Count(3, NOW)), NOW, known_device=True) is None
    refused = refusal((Count(10, NOW), NONE, Count(10, NOW)), NOW, known_device=True)
    assert refused is not None and refused.limit is Limit.KNOWN_DEVICE
