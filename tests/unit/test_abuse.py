"""The abuse rules alone: which limits a count crosses, when it blocks, the windows,
when a resolved flag comes back and who may resolve one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from webapp.domain.abuse import (
    AbuseBlocked,
    CloseCounts,
    Crossing,
    Kind,
    check_close,
    check_joins,
    day_key,
    hour_key,
    local_day,
    refusal_to_resolve,
)
from webapp.domain.counter_settings import AbuseLimits
from webapp.domain.errors import Conflict, PermissionDenied
from webapp.error_messages import describe

MSK = ZoneInfo("Europe/Moscow")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
NOW = datetime(2026, 11, 29, 11, 30, tzinfo=UTC)  # 14:30 in Moscow
LIMITS = AbuseLimits(
    accruals_per_customer_day=3,
    accruals_per_staff_hour=30,
    redeem_after_accrual_minutes=30,
    joins_without_orders_per_staff_day=10,
)
HARD = AbuseLimits(**{**LIMITS.__dict__, "hard_block": True})


def customer_day(count: int, limits: AbuseLimits = LIMITS) -> tuple[Crossing, ...]:
    return check_close(limits, CloseCounts(7, 3, customer_accruals_today=count), NOW, MSK).crossings


@pytest.mark.parametrize(("count", "flagged"), [(1, False), (3, False), (4, True)])
def test_customer_accruals_flag_above_the_limit_only(count: int, flagged: bool) -> None:
    crossings = customer_day(count)
    assert bool(crossings) is flagged
    if flagged:
        assert crossings == (
            Crossing(Kind.CUSTOMER_ACCRUALS_DAY, "customer:7", "2026-11-29", 4, 3, blocks=False),
        )


@pytest.mark.parametrize(("count", "blocks"), [(4, False), (6, False), (7, True)])
def test_hard_block_above_twice_the_limit(count: int, blocks: bool) -> None:
    verdict = check_close(HARD, CloseCounts(7, 3, customer_accruals_today=count), NOW, MSK)
    assert verdict.blocked is blocks
    assert verdict.kinds == ["customer_accruals_day"]


def test_without_hard_block_nothing_blocks() -> None:
    verdict = check_close(
        LIMITS,
        CloseCounts(
            7, 3, customer_accruals_today=100, staff_accruals_last_hour=1000, last_accrual_at=NOW
        ),
        NOW,
        MSK,
    )
    assert len(verdict.crossings) == 3 and not verdict.blocked


def test_zero_turns_a_check_off() -> None:
    off = AbuseLimits(0, 0, 0, 0, hard_block=True)
    verdict = check_close(
        off,
        CloseCounts(
            7, 3, customer_accruals_today=100, staff_accruals_last_hour=1000, last_accrual_at=NOW
        ),
        NOW,
        MSK,
    )
    assert verdict.crossings == ()
    assert (
        check_joins(off, staff_id=3, joins_without_orders_today=99, now=NOW, zone=MSK).crossings
        == ()
    )


@pytest.mark.parametrize(
    ("count", "flagged", "blocks"),
    [(30, False, False), (31, True, False), (60, True, False), (61, True, True)],
)
def test_staff_accruals_per_hour(count: int, flagged: bool, blocks: bool) -> None:
    verdict = check_close(HARD, CloseCounts(7, 3, staff_accruals_last_hour=count), NOW, MSK)
    assert bool(verdict.crossings) is flagged and verdict.blocked is blocks
    if flagged:
        (crossing,) = verdict.crossings
        assert (crossing.kind, crossing.subject, crossing.window) == (
            Kind.STAFF_ACCRUALS_HOUR,
            "staff:3",
            "2026-11-29T14",
        )


def test_staff_check_needs_a_staff_member() -> None:
    verdict = check_close(LIMITS, CloseCounts(7, None, staff_accruals_last_hour=99), NOW, MSK)
    assert verdict.crossings == ()


@pytest.mark.parametrize(
    ("minutes_ago", "flagged"), [(0, True), (29, True), (30, True), (31, False)]
)
def test_redeem_within_n_minutes_of_an_accrual(minutes_ago: int, flagged: bool) -> None:
    at = NOW - timedelta(minutes=minutes_ago)
    verdict = check_close(LIMITS, CloseCounts(7, 3, last_accrual_at=at), NOW, MSK)
    assert bool(verdict.crossings) is flagged
    if flagged:
        (crossing,) = verdict.crossings
        assert (
            crossing.kind,
            crossing.subject,
            crossing.window,
            crossing.count,
            crossing.limit,
        ) == (Kind.REDEEM_AFTER_ACCRUAL, "customer:7", "2026-11-29", minutes_ago, 30)


def test_redeem_after_accrual_blocks_whenever_flagged_with_hard_block() -> None:
    at = NOW - timedelta(minutes=29, seconds=59)
    assert check_close(HARD, CloseCounts(7, 3, last_accrual_at=at), NOW, MSK).blocked
    assert not check_close(LIMITS, CloseCounts(7, 3, last_accrual_at=at), NOW, MSK).blocked


def test_an_accrual_after_the_redemption_is_not_counted() -> None:
    later = NOW + timedelta(seconds=1)
    assert check_close(LIMITS, CloseCounts(7, 3, last_accrual_at=later), NOW, MSK).crossings == ()


@pytest.mark.parametrize(("count", "flagged"), [(10, False), (11, True), (50, True)])
def test_joins_without_orders_flag_but_never_block(count: int, flagged: bool) -> None:
    verdict = check_joins(HARD, staff_id=3, joins_without_orders_today=count, now=NOW, zone=MSK)
    assert bool(verdict.crossings) is flagged and not verdict.blocked
    if flagged:
        assert verdict.crossings[0].subject == "staff:3"
        assert verdict.crossings[0].window == "2026-11-29"


def test_the_window_is_the_business_local_day_and_hour() -> None:
    late = datetime(2026, 11, 29, 22, 10, tzinfo=UTC)  # 01:10 on the 30th in Moscow
    assert day_key(late.astimezone(MSK)) == "2026-11-30"
    assert hour_key(late.astimezone(MSK)) == "2026-11-30T01"
    assert day_key(late.astimezone(ZoneInfo("America/New_York"))) == "2026-11-29"


def test_local_day_bounds_in_utc() -> None:
    start, end = local_day(NOW, MSK)
    assert start == datetime(2026, 11, 28, 21, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 29, 21, 0, tzinfo=UTC)


def test_local_day_follows_dst() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start, end = local_day(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), berlin)
    assert end - start == timedelta(hours=23)


def test_local_day_refuses_naive_times() -> None:
    with pytest.raises(ValueError):
        local_day(datetime(2026, 11, 29, 12, 0), MSK)


def test_the_blocked_error_is_a_conflict_with_a_code() -> None:
    crossing = Crossing(Kind.CUSTOMER_ACCRUALS_DAY, "customer:7", "2026-11-29", 7, 3, True)
    error = AbuseBlocked((crossing,))
    assert isinstance(error, Conflict) and error.status == 409
    assert error.code == "abuse_blocked"
    assert "manager" in describe(error, "en")
    assert [c.kind for c in error.crossings] == [Kind.CUSTOMER_ACCRUALS_DAY]
    assert error.crossings == (crossing,)


def test_a_resolved_flag_comes_back_when_the_count_grows() -> None:
    crossing = Crossing(Kind.STAFF_ADJUSTMENTS_DAY, "staff:3", "2026-11-29", 12, 10)
    assert crossing.reopens(11) and not crossing.reopens(12) and not crossing.reopens(40)
    assert crossing.reopens(None)  # a flag that recorded no count
    # Minutes since the accrual are no count that grows: each one is a new incident.
    soon = Crossing(Kind.REDEEM_AFTER_ACCRUAL, "customer:7", "2026-11-29", 20, 30)
    assert soon.reopens(5) and soon.reopens(25)


@pytest.mark.parametrize(
    ("kind", "subject", "raised_by", "why"),
    [
        ("staff_accruals_hour", "staff:3", None, "own"),  # about them
        ("customer_accruals_day", "customer:7", 3, "own"),  # raised by what they did
        ("staff_adjustments_day", "staff:4", 4, "owner"),
        ("large_adjustment", "request:9", 4, "owner"),
        ("customer_adjustments_day", "customer:7", None, "owner"),
        ("customer_accruals_day", "customer:7", 4, None),
        ("staff_accruals_hour", "staff:4", 4, None),
    ],
)
def test_who_resolves_a_flag(kind: str, subject: str, raised_by: int | None,
                             why: str | None) -> None:
    refusal = refusal_to_resolve(kind, subject, raised_by, staff_id=3, is_owner=False)
    assert (refusal.params["why"] if refusal else None) == why
    if refusal is not None:
        assert isinstance(refusal, PermissionDenied) and refusal.status == 403
        assert CYRILLIC.search(describe(refusal, "ru"))
    # The owner resolves every flag, their own included.
    assert refusal_to_resolve(kind, subject, raised_by, staff_id=3, is_owner=True) is None
