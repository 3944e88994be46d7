"""Counters of rate limits shared by every process and machine (without Redis)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.persistence.base import Base, UTCDateTime


class RateCounter(Base):
    """How often ``key`` (e.g. failed sign-ins of one login from one address) happened in
    the fixed window starting at ``window_start``, and when it last did. Incremented with
    one upsert, so parallel requests on several workers never lose a count; rows of
    windows long past are deleted as new ones are written."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_window_start", "window_start"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    hits: Mapped[int] = mapped_column(default=0)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
