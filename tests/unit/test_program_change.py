"""What a program change does to customers, from their histories alone (no database)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from webapp.catalogue import words_for
from webapp.domain.presets import DEMO, PRESETS
from webapp.domain.program_change import Customer, impact, impact_text
from webapp.domain.tiers import PaidOrder

NOW = datetime(2026, 7, 1, 12, tzinfo=UTC)


def regular(cid: int, orders: int, points: int = 0, label: str = "") -> Customer:
    history = tuple(PaidOrder(NOW - timedelta(days=n + 1), 200_000) for n in range(orders))
    return Customer(cid, label or f"Клиент {cid}", history, points)


def test_a_renamed_tier_list_compares_by_place_and_a_same_name_by_name() -> None:
    renamed = replace(DEMO, tiers=tuple(replace(t, name=f"Уровень {i + 1}")
                                        for i, t in enumerate(DEMO.tiers)))
    same_places = impact(DEMO, renamed, [regular(1, 3), regular(2, 15)], NOW)
    assert (same_places.up, same_places.down) == (0, 0)
    # Silver moved up to 5 orders: the 3-order customer is Base again, by name.
    higher = replace(DEMO, tiers=(DEMO.tiers[0], replace(DEMO.tiers[1], min_orders=5),
                                  *DEMO.tiers[2:]))
    found = impact(DEMO, higher, [regular(1, 3, label="Анна"), regular(2, 15)], NOW)
    assert (found.up, found.down) == (0, 1)
    assert [(x.label, x.before, x.after) for x in found.losses] == [
        ("Анна", "Серебряный", "Базовый")]


def test_the_first_program_only_raises_and_holds_no_points_at_stake() -> None:
    found = impact(None, DEMO, [regular(1, 0), regular(2, 7, points=50)], NOW)
    assert (found.up, found.down, found.stranded, found.value_before) == (1, 0, False, 0)


def test_a_new_point_value_changes_what_the_balance_is_worth() -> None:
    dearer = replace(PRESETS["bonus_5_20"], point_value=200)
    found = impact(PRESETS["bonus_5_20"], dearer, [regular(1, 1, points=300)], NOW)
    assert (found.value_before, found.value_after, found.stranded) == (30_000, 60_000, False)
    ru = impact_text(found, words_for("ru"), "RUB")
    assert ru == ["300 баллов на счетах 1 клиента будут стоить 600\u00a0₽ вместо 300\u00a0₽."]


def test_no_customers_is_said_plainly() -> None:
    assert impact_text(impact(DEMO, PRESETS["car_service"], [], NOW), words_for("en"),
                       "RUB") == ["No customers yet: the change affects no one."]
