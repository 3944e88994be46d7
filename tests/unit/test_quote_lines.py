"""Orders with lines through the pure quote: the seeds' examples with real work orders
(oil change + parts, the 6th oil change, "5 % on the next service", the gift on the
3rd visit), line rules, and what the engine promises on any lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.domain.errors import InvalidAmount, InvalidInput
from webapp.domain.order_lines import LineKind, OrderLine, spread_points
from webapp.domain.presets import PRESETS
from webapp.domain.program import LineRule, Mechanic, ProgramSettings, StampCard, Tier, validate
from webapp.domain.quote import CustomerState, OrderDraft, quote
from webapp.domain.tiers import PaidOrder, stamp_status

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
RUB = 100
CAR = PRESETS["car_service"]  # cashback 5 %, pay up to 100 %, every 6th oil change free
OIL = StampCard("oil_change", "Каждая 6-я замена масла бесплатно", every=6)

WORK, PART = LineKind.WORK, LineKind.PART


def oil_change(rub: int, asset: int | None = None) -> OrderLine:
    return OrderLine(rub * RUB, name="Замена масла", kind=WORK, category="oil_change",
                     asset_id=asset)


def part(rub: int, quantity: int = 1, name: str = "Фильтр") -> OrderLine:
    return OrderLine(rub * RUB, quantity, name=name, kind=PART, category="parts")


def oil_changes(n: int, asset: int | None = None) -> tuple[PaidOrder, ...]:
    return tuple(PaidOrder(NOW - (n - i) * DAY, 3_000 * RUB, "oil_change", asset)
                 for i in range(n))


def test_the_sixth_oil_change_frees_the_oil_change_not_the_whole_order() -> None:
    # The try: 5 of 6 stamps, a 25 000 ₽ order "oil change" was quoted «К оплате: 0 ₽».
    order = OrderDraft(lines=(oil_change(2_500), part(4_500, 5, "Масло 4 л")))
    sixth = quote(CAR, 1, CustomerState(0, oil_changes(5)), order, NOW)
    assert order.total == 25_000 * RUB
    assert sixth.stamp_discount == 2_500 * RUB
    assert sixth.paid == 22_500 * RUB
    free, oil = sixth.items
    assert (free.stamp_discount, free.paid) == (2_500 * RUB, 0)
    assert (oil.stamp_discount, oil.paid) == (0, 22_500 * RUB)
    assert sixth.accrue_points == 1_125  # 5 % of the parts only: the oil change was free
    assert "stamp:oil_change" in sixth.used and sixth.stamps[0].have == 0


def test_a_fixed_stamp_reward_is_capped_by_its_line() -> None:
    program = replace(CAR, stamp_cards=(replace(OIL, reward_minor=1_500 * RUB),))
    big = quote(program, 1, CustomerState(0, oil_changes(5)),
                OrderDraft(lines=(oil_change(2_500), part(900))), NOW)
    assert big.stamp_discount == 1_500 * RUB
    small = quote(program, 1, CustomerState(0, oil_changes(5)),
                  OrderDraft(lines=(oil_change(1_000), part(900))), NOW)
    assert small.stamp_discount == 1_000 * RUB and small.items[1].stamp_discount == 0


def test_five_percent_of_the_bill_on_works_none_on_parts() -> None:
    # "5 % on the next service", with the margin on parts kept: 0 % on parts.
    program = replace(CAR, line_rules=(LineRule(kind="part", accrual_bp=0),
                                       LineRule(kind="work", accrual_bp=1000)))
    first = quote(program, 1, CustomerState(0),
                  OrderDraft(lines=(OrderLine(10_000 * RUB, name="Ремонт подвески", kind=WORK,
                                              category="repair"), part(20_000))), NOW)
    assert [line.accrue_points for line in first.items] == [1_000, 0]
    assert first.accrue_points == 1_000
    accrue = next(line for line in first.lines if line.code == "accrue")
    assert accrue.params["mixed"] is True
    # ... and the points are there at the next visit, up to the order.
    second = quote(program, 1, CustomerState(1_000, (PaidOrder(NOW - DAY, 30_000 * RUB),)),
                   OrderDraft(2_000 * RUB), NOW)
    assert second.max_redeem_points == 1_000


def test_a_category_rule_wins_over_its_kind() -> None:
    program = replace(CAR, line_rules=(LineRule(kind="part", accrual_bp=0),
                                       LineRule(category="tyres", accrual_bp=300)))
    tyres = OrderLine(10_000 * RUB, 4, name="Шина", kind=PART, category="tyres")
    q = quote(program, 1, CustomerState(0), OrderDraft(lines=(tyres, part(1_000))), NOW)
    assert [line.accrual_bp for line in q.items] == [300, 0]
    assert q.accrue_points == 1_200


def test_the_gift_on_the_third_visit_with_a_real_order() -> None:
    visits = (PaidOrder(NOW - 2 * DAY, 1_000 * RUB), PaidOrder(NOW - DAY, 1_000 * RUB))
    third = quote(CAR, 1, CustomerState(0, visits),
                  OrderDraft(lines=(oil_change(2_500), part(900)), use=("visit_gift",)), NOW)
    assert third.used == ("visit_gift",) and third.total == 3_400 * RUB


def test_the_tier_discount_stays_off_parts() -> None:
    gold = Tier("Золото", min_orders=1, discount_bp=1000)
    program = ProgramSettings(mechanic=Mechanic.DISCOUNT, discount_bp=500, tiers=(gold,),
                              line_rules=(LineRule(kind="part", discounted=False),))
    validate(program)
    q = quote(program, 1, CustomerState(0, (PaidOrder(NOW - DAY, 100 * RUB),)),
              OrderDraft(lines=(oil_change(3_000), part(7_000))), NOW)
    assert [line.discount for line in q.items] == [300 * RUB, 0]
    assert q.discount == 300 * RUB and q.paid == 9_700 * RUB


def test_redemption_is_capped_per_order_and_spread_over_the_lines() -> None:
    program = PRESETS["bonus_5_20"]  # pay up to 20 % of the order with points
    order = OrderDraft(lines=(oil_change(3_000), part(7_000)), redeem_points=2_000)
    q = quote(program, 1, CustomerState(5_000), order, NOW)
    assert q.max_redeem_points == 2_000
    assert [line.redeem_points for line in q.items] == [600, 1_400]
    assert sum(line.paid for line in q.items) == q.paid == 8_000 * RUB
    with pytest.raises(InvalidAmount):
        quote(program, 1, CustomerState(5_000), replace(order, redeem_points=2_001), NOW)


def test_one_line_is_the_quick_flow() -> None:
    quick = OrderDraft(4_500 * RUB, "oil_change", redeem_points=0)
    typed = OrderDraft(lines=(OrderLine(4_500 * RUB, category="oil_change"),))
    for settings in PRESETS.values():
        a = quote(settings, 1, CustomerState(300, oil_changes(5)), quick, NOW)
        b = quote(settings, 1, CustomerState(300, oil_changes(5)), typed, NOW)
        assert a == b


def test_a_per_vehicle_card_rewards_the_vehicle_that_earned_it() -> None:
    program = replace(CAR, stamp_cards=(replace(OIL, per_asset=True),))
    history = oil_changes(5, asset=7)
    mine = quote(program, 1, CustomerState(0, history),
                 OrderDraft(lines=(oil_change(2_500, asset=7), oil_change(2_500, asset=8))), NOW)
    assert [line.stamp_discount for line in mine.items] == [2_500 * RUB, 0]


def test_a_returned_oil_change_takes_its_stamp_back() -> None:
    kept = PaidOrder(NOW - DAY, 5_000 * RUB, "oil_change", marks=(("oil_change", None),))
    returned = replace(kept, marks=())  # its oil-change line was returned, parts kept
    assert stamp_status(OIL, (kept,)).have == 1
    assert stamp_status(OIL, (returned,)).have == 0
    # Two oil-change lines in one order are one stamp.
    twice = replace(kept, marks=(("oil_change", None), ("oil_change", None)))
    assert stamp_status(OIL, (twice,)).have == 1


@pytest.mark.parametrize(("draft", "code"), [
    (lambda: OrderDraft(1_000, lines=(part(20),)), "lines_total_mismatch"),
    (lambda: OrderDraft(lines=(part(20, quantity=0),)), "line_quantity_range"),
    (lambda: OrderDraft(lines=(part(-1),)), "amount_not_positive"),
    (lambda: OrderDraft(lines=(replace(part(1), name="x" * 201),)), "line_name_length"),
    (lambda: OrderDraft(lines=(replace(part(1), kind="part"),)), "line_kind_unknown"),
    (lambda: OrderDraft(lines=tuple(part(1) for _ in range(101))), "order_lines_too_many"),
])
def test_impossible_lines_are_refused(draft: object, code: str) -> None:
    with pytest.raises((InvalidAmount, InvalidInput)) as refused:
        draft()  # type: ignore[operator]
    assert refused.value.code == code


def test_line_rules_are_validated() -> None:
    for rules in ((LineRule(),), (LineRule(kind="labour"),),
                  (LineRule(kind="part", category="x"),),
                  (LineRule(kind="part", accrual_bp=0), LineRule(kind="part")),
                  (LineRule(kind="part", accrual_bp=10_000),)):
        with pytest.raises(InvalidInput):
            validate(replace(CAR, line_rules=rules))


lines_strategy = st.lists(st.tuples(st.integers(0, 50_000), st.integers(1, 5),
                                    st.sampled_from([WORK, PART, LineKind.OTHER]),
                                    st.sampled_from([None, "oil_change", "parts"])),
                          min_size=1, max_size=8)


@given(lines_strategy, st.integers(0, 100_000), st.integers(0, 10), st.data())
def test_lines_always_add_up(raw: list[tuple[int, int, LineKind, str | None]],
                             balance: int, visits: int, data: st.DataObject) -> None:
    program = replace(PRESETS["cashback_5_50"], stamp_cards=(OIL,),
                      line_rules=(LineRule(kind="part", accrual_bp=100, discounted=False),))
    lines = tuple(OrderLine(p * RUB, q, kind=k, category=c) for p, q, k, c in raw)
    state = CustomerState(balance, oil_changes(visits))
    top = quote(program, 1, state, OrderDraft(lines=lines), NOW).max_redeem_points
    redeem = data.draw(st.integers(0, top))
    q = quote(program, 1, state, OrderDraft(lines=lines, redeem_points=redeem), NOW)
    assert sum(line.line.amount for line in q.items) == q.total
    assert sum(line.stamp_discount for line in q.items) == q.stamp_discount
    assert sum(line.discount for line in q.items) == q.discount
    assert sum(line.redeem_points for line in q.items) == redeem
    assert sum(line.paid for line in q.items) == q.paid
    assert sum(line.accrue_points for line in q.items) == q.accrue_points
    assert all(line.paid >= 0 for line in q.items)


@given(st.integers(0, 10_000), st.lists(st.integers(0, 10**7), min_size=1, max_size=10),
       st.sampled_from([1, 100]))
def test_spread_points_never_exceeds_a_line(points: int, shares: list[int], value: int) -> None:
    points = min(points, sum(share // value for share in shares))
    spread = spread_points(points, shares, value)
    assert sum(spread) == points
    assert all(p * value <= share for p, share in zip(spread, shares, strict=True))
