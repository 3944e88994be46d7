"""Pure ledger rules: amounts, lot consumption, refunds, settlement, fingerprints."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain import ledger
from webapp.domain.errors import InsufficientPoints, InvalidAmount, InvalidInput
from webapp.domain.ledger import Lot

NOW = datetime(2026, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.mark.parametrize("bad", [0, -1, 1.5, "10", None, True, ledger.MAX_POINTS + 1])
def test_require_points_refuses_bad_amounts(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        ledger.require_points(bad)


def test_require_points_allows_negative_only_when_asked() -> None:
    assert ledger.require_points(-5, allow_negative=True) == -5
    with pytest.raises(InvalidAmount):
        ledger.require_points(-5)


@pytest.mark.parametrize("bad", [-1, 1.0, "100", None, False, 100 * ledger.MAX_POINTS + 1])
def test_require_money_refuses_bad_amounts(bad: object) -> None:
    with pytest.raises(InvalidAmount):
        ledger.require_money(bad)


def test_require_money_zero_only_when_allowed() -> None:
    assert ledger.require_money(0) == 0
    with pytest.raises(InvalidAmount):
        ledger.require_money(0, allow_zero=False)


def test_consume_takes_the_soonest_expiring_then_oldest() -> None:
    lots = [
        Lot(1, 50, NOW - 10 * DAY, None),
        Lot(2, 30, NOW - 5 * DAY, NOW + 20 * DAY),
        Lot(3, 40, NOW - 9 * DAY, NOW + 20 * DAY),
        Lot(4, 10, NOW - 1 * DAY, NOW + 2 * DAY),
    ]
    assert ledger.consume(lots, 60, NOW) == [(4, 10), (3, 40), (2, 10)]


def test_consume_never_touches_expired_lots() -> None:
    lots = [Lot(1, 100, NOW - 400 * DAY, NOW - DAY), Lot(2, 20, NOW, None)]
    with pytest.raises(InsufficientPoints) as caught:
        ledger.consume(lots, 50, NOW)
    assert caught.value.params == {"available": 20, "requested": 50}
    assert caught.value.code == "points_short"


def test_lot_expiring_exactly_now_is_not_usable() -> None:
    assert not Lot(1, 5, NOW - DAY, NOW).usable(NOW)
    assert ledger.due_for_expiry([Lot(1, 5, NOW - DAY, NOW)], NOW) == [(1, 5)]


def test_consume_up_to_takes_what_there_is() -> None:
    lots = [Lot(1, 30, NOW, None)]
    assert ledger.consume_up_to(lots, 100, NOW) == [(1, 30)]
    assert ledger.consume_up_to([], 100, NOW) == []


lot_lists = st.lists(
    st.builds(Lot, id=st.integers(1, 10**6), remaining=st.integers(0, 500),
              earned_at=st.just(NOW - 30 * DAY),
              expires_at=st.one_of(st.none(), st.integers(-10, 10).map(lambda d: NOW + d * DAY))),
    max_size=8, unique_by=lambda lot: lot.id,
)


@given(lot_lists, st.integers(1, 3000))
def test_consume_is_exact_or_refuses(lots: list[Lot], amount: int) -> None:
    usable = sum(lot.remaining for lot in lots if lot.usable(NOW))
    by_id = {lot.id: lot for lot in lots}
    if amount > usable:
        with pytest.raises(InsufficientPoints):
            ledger.consume(lots, amount, NOW)
        return
    plan = ledger.consume(lots, amount, NOW)
    assert sum(take for _, take in plan) == amount
    assert all(0 < take <= by_id[lot_id].remaining for lot_id, take in plan)
    assert all(by_id[lot_id].usable(NOW) for lot_id, _ in plan)


@given(st.integers(1, 10**6), st.integers(1, 10**7), st.lists(st.integers(1, 10**6), max_size=6))
def test_partial_refunds_add_up_to_the_full_reversal(earned: int, total: int,
                                                     refunds: list[int]) -> None:
    refunded, reversed_so_far = 0, 0
    for refund in refunds:
        refund = min(refund, total - refunded)
        if refund <= 0:
            break
        refunded += refund
        reversed_so_far += ledger.refund_share(earned, total, refunded, reversed_so_far)
        assert reversed_so_far <= earned
        assert reversed_so_far == earned * refunded // total
    reversed_so_far += ledger.refund_share(earned, total, total, reversed_so_far)
    assert reversed_so_far == earned


def test_refund_share_of_a_free_order_reverses_everything_left() -> None:
    assert ledger.refund_share(40, 0, 0, 10) == 30


@pytest.mark.parametrize(("accrual", "debt", "split"), [
    (100, 0, (0, 100)), (100, 30, (30, 70)), (100, 250, (100, 0)), (5, -3, (0, 5)),
])
def test_settlement_pays_the_debt_first(accrual: int, debt: int, split: tuple[int, int]) -> None:
    assert ledger.settle_from_accrual(accrual, debt) == split


def test_fingerprint_ignores_key_order_and_sees_values() -> None:
    a = ledger.fingerprint("accrue", {"customer": 1, "points": 10})
    assert a == ledger.fingerprint("accrue", {"points": 10, "customer": 1})
    assert a != ledger.fingerprint("accrue", {"customer": 1, "points": 11})
    assert a != ledger.fingerprint("redeem", {"customer": 1, "points": 10})


@pytest.mark.parametrize("bad", ["short", "x" * 201, "ключ-12345", "tab\tkey123", None, 12345678])
def test_validate_key_refuses_bad_keys(bad: object) -> None:
    with pytest.raises(InvalidInput):
        ledger.validate_key(bad)


def test_account_kinds_split_between_customer_and_business() -> None:
    assert ledger.AccountKind.AVAILABLE.per_customer
    assert not ledger.AccountKind.ISSUED.per_customer
    assert set(ledger.AccountKind) == ledger.CUSTOMER_ACCOUNTS | ledger.SYSTEM_ACCOUNTS
