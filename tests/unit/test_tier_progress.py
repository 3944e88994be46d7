"""tiers.progress: the card's bar toward the next tier, on the nearer path."""

from __future__ import annotations

from webapp.domain.presets import DEMO
from webapp.domain.program import ProgramSettings, Tier
from webapp.domain.tiers import NextTier, progress

SETTINGS = ProgramSettings(**{**DEMO.__dict__, "tiers": (
    Tier("Бронза"), Tier("Серебро", min_orders=5, min_spend=3_000_000),
    Tier("Золото", min_orders=12))})


def test_no_next_tier_is_a_full_bar() -> None:
    assert progress(SETTINGS, None) == 100


def test_the_nearer_path_counts() -> None:
    # 2 of 5 orders (40 %) but 2,400 of 30,000 roubles spent (80 %): the bar shows 80.
    assert progress(SETTINGS, NextTier("Серебро", orders_missing=3, spend_missing=600_000)) == 80
    assert progress(SETTINGS, NextTier("Серебро", orders_missing=1, spend_missing=2_900_000)) == 80


def test_a_path_that_does_not_lead_there_is_ignored() -> None:
    assert progress(SETTINGS, NextTier("Золото", orders_missing=9, spend_missing=None)) == 25


def test_never_full_before_the_tier_is_reached() -> None:
    assert progress(SETTINGS, NextTier("Золото", orders_missing=0, spend_missing=None)) == 99


def test_an_unknown_tier_shows_nothing() -> None:
    assert progress(SETTINGS, NextTier("Платина", orders_missing=1, spend_missing=None)) == 0
