"""Manual adjustments' rules without a database: a real reason, the approval limit,
and the abuse flags a large or frequent adjustment raises."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from webapp.domain import abuse, adjustments
from webapp.domain.adjustments import ApprovalRequired, DayTotals, InvalidReason, Why
from webapp.domain.counter_settings import AbuseLimits, CounterSettings, from_dict, validate
from webapp.domain.errors import InvalidInput
from webapp.error_messages import describe

MOSCOW = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 11, 29, 21, 30, tzinfo=UTC)  # 00:30 on the 30th in Moscow


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Укажите причину корректировки."),
        ("   \n ", "Укажите причину корректировки."),
        ("x", "Причина — не короче 10 символов: напишите, что случилось."),
        ("Ошибка", "Причина — не короче 10 символов: напишите, что случилось."),
        ("a        b", "Причина — не короче 10 символов: напишите, что случилось."),
        ("xxxxxxxxxxxx", "Напишите настоящую причину, а не один повторяющийся символ."),
        ("..........!!", "Напишите настоящую причину, а не один повторяющийся символ."),
        ("1 1 1 1 1 1 1", "Напишите настоящую причину, а не один повторяющийся символ."),
        ("ЯяЯяЯяЯяЯяЯя", "Напишите настоящую причину, а не один повторяющийся символ."),
        ("x" * 499 + "yz", "Причина — не длиннее 500 символов."),
    ],
)
def test_a_reason_must_be_real(typed: str, says: str) -> None:
    with pytest.raises(InvalidReason) as refused:
        adjustments.require_reason(typed)
    assert isinstance(refused.value, InvalidInput) and refused.value.status == 422
    assert describe(refused.value, "ru") == says


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Компенсация за ожидание  ", "Компенсация за ожидание"),
        ("Двойное\n\nначисление", "Двойное начисление"),
        ("Ошибка №123", "Ошибка №123"),
        ("y" + "x" * 499, "y" + "x" * 499),
    ],
)
def test_a_real_reason_is_kept_trimmed(typed: str, kept: str) -> None:
    assert adjustments.require_reason(typed) == kept


def test_not_text_is_no_reason() -> None:
    with pytest.raises(InvalidReason):
        adjustments.require_reason(None)


def test_above_the_limit_either_way_only_the_owner_applies() -> None:
    limits = AbuseLimits()
    assert limits.adjustment_approval_above == 5000  # the default
    for points in (5000, -5000, 1, -1):
        assert adjustments.approval_needed(limits, points) is None
        adjustments.require_right_to_apply(limits, points, is_owner=False)
    for points in (5001, -5001, 999_999_999):
        needed = adjustments.approval_needed(limits, points)
        assert needed is not None and needed.why is Why.LARGE
        adjustments.require_right_to_apply(limits, points, is_owner=True)
        with pytest.raises(ApprovalRequired) as refused:
            adjustments.require_right_to_apply(limits, points, is_owner=False)
        assert refused.value.status == 409
        assert describe(refused.value, "ru") == (
            "Корректировку сверх лимита одобряет владелец. Лимит баллов: 5000."
        )


def test_splitting_a_large_adjustment_does_not_go_around_the_owner() -> None:
    """The review's 40 x 5,000 in one day: each within the per-adjustment limit, the
    day's totals are not."""
    limits = AbuseLimits()
    assert limits.adjustment_day_total_above == 20_000  # the default
    assert adjustments.approval_needed(limits, 5000, DayTotals(staff=15_000)) is None
    staff_day = adjustments.approval_needed(limits, -5000, DayTotals(staff=15_001))
    assert staff_day is not None
    assert (staff_day.why, staff_day.total, staff_day.limit) == (Why.STAFF_DAY, 20_001, 20_000)
    assert describe(staff_day, "ru") == (
        "Корректировку одобряет владелец: с ней ваши корректировки за сегодня превысят"
        " дневной лимит. Сумма баллов за день: 20\u202f001, лимит: 20\u202f000."
    )
    assert adjustments.approval_needed(limits, 100, DayTotals(customer=4900)) is None
    on_customer = adjustments.approval_needed(limits, 100, DayTotals(customer=4901))
    assert on_customer is not None
    assert (on_customer.why, on_customer.total, on_customer.limit) == (
        Why.CUSTOMER_DAY, 5001, 5000)
    assert describe(on_customer, "ru") == (
        "Корректировку одобряет владелец: с ней корректировки этому клиенту за сегодня"
        " превысят лимит. Сумма баллов за день: 5001, лимит: 5000."
    )
    # Its own size is said first, then the staff member's day, then the customer's.
    both = adjustments.approval_needed(limits, 5001, DayTotals(staff=99_999, customer=9))
    assert both is not None and both.why is Why.LARGE
    with pytest.raises(ApprovalRequired):
        adjustments.require_right_to_apply(limits, 1, DayTotals(staff=20_000), is_owner=False)
    adjustments.require_right_to_apply(limits, 1, DayTotals(20_000, 20_000), is_owner=True)


def test_the_day_total_limit_is_the_owners_and_cannot_be_turned_off() -> None:
    with pytest.raises(InvalidInput):
        validate(CounterSettings(abuse=AbuseLimits(adjustment_day_total_above=0)))
    validate(CounterSettings(abuse=AbuseLimits(adjustment_day_total_above=1)))
    assert from_dict({"abuse": {}}).abuse.adjustment_day_total_above == 20_000
    assert adjustments.approval_needed(AbuseLimits(adjustment_day_total_above=300), 301) \
        is not None


def test_the_approval_limit_cannot_be_turned_off() -> None:
    with pytest.raises(InvalidInput):
        validate(CounterSettings(abuse=AbuseLimits(adjustment_approval_above=0)))
    validate(CounterSettings(abuse=AbuseLimits(adjustment_approval_above=1)))
    # Stored settings from before the limit existed take the defaults.
    stored = from_dict({"abuse": {"accruals_per_customer_day": 4}})
    assert stored.abuse.adjustment_approval_above == 5000
    assert stored.abuse.adjustments_per_staff_day == 10
    assert stored.abuse.adjustments_per_customer_day == 3


def _counts(points: int = 100, staff: int | None = 1, customer: int | None = 1
            ) -> abuse.AdjustmentCounts:
    return abuse.AdjustmentCounts(customer_id=7, staff_id=3, points=points,
                                  reference="operation:42", staff_adjustments_today=staff,
                                  customer_adjustments_today=customer)


def test_a_large_adjustment_is_flagged_on_its_own() -> None:
    verdict = abuse.check_adjustment(AbuseLimits(), _counts(points=-5001), NOW, MOSCOW)
    (large,) = verdict.crossings
    assert (large.kind, large.subject, large.window) == (
        abuse.Kind.LARGE_ADJUSTMENT, "operation:42", "2026-11-30")  # the local day
    assert large.details() == {"count": 5001, "limit": 5000} and not large.blocks
    assert not abuse.check_adjustment(AbuseLimits(), _counts(points=5000), NOW, MOSCOW).crossings


def test_frequent_adjustments_are_flagged_by_staff_and_by_customer() -> None:
    limits = AbuseLimits(adjustments_per_staff_day=10, adjustments_per_customer_day=3)
    assert not abuse.check_adjustment(limits, _counts(staff=10, customer=3), NOW, MOSCOW).crossings
    verdict = abuse.check_adjustment(limits, _counts(staff=11, customer=4), NOW, MOSCOW)
    assert verdict.kinds == ["staff_adjustments_day", "customer_adjustments_day"]
    assert [c.subject for c in verdict.crossings] == ["staff:3", "customer:7"]
    assert not verdict.blocked  # flagged only, even with hard_block on
    hard = AbuseLimits(adjustments_per_staff_day=1, hard_block=True)
    assert not abuse.check_adjustment(hard, _counts(staff=5), NOW, MOSCOW).blocked
    off = AbuseLimits(adjustments_per_staff_day=0, adjustments_per_customer_day=0)
    assert not abuse.check_adjustment(off, _counts(staff=None, customer=None), NOW,
                                      MOSCOW).crossings
