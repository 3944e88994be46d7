"""The time now, always timezone-aware UTC (stored and compared as such everywhere)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current moment in UTC."""
    return datetime.now(UTC)
