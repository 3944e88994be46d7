"""Did a request write anything? Cheap to ask after every request, exact when it matters.

Every statement the app sends goes through the test's one connection; a listener notes
the tables of those that write (INSERT, UPDATE, DELETE), rolled back later or not.
While there are none nothing was written. When there are, the rows of those tables and
the row count of every table (a cascade) are compared with the state before the
request, so a write the request rolled back itself (a failed close, say) is not
mistaken for one that stayed.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, event, func, literal, select, union_all
from sqlalchemy.orm import Session

from webapp.persistence.base import Base

# Written by refused requests on purpose, so left out of the comparison:
# - rate_counters: a refused staff sign-in or code request counts towards the limits
#   that stop guessing (shared by every process), which is their point.
# - staff_sessions: the activity stamp of a signed-in browser, on every request.
EXCLUDED = frozenset({"rate_counters", "staff_sessions"})
# - the attempts on a one-time code: a wrong code counts, so that guessing ends after five.
# - a customer device's last_seen_at: refreshed by any request every ten minutes.
EXCLUDED_COLUMNS = {"sign_in_codes": {"attempts"}, "redeem_confirmations": {"attempts"},
                    "customer_sessions": {"last_seen_at"}}
TABLES = {table.name: table for table in Base.metadata.sorted_tables
          if table.name not in EXCLUDED}
_WRITE = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)', re.IGNORECASE)


class WriteCounter:
    """Notes the tables that statements sent on ``connection`` write to."""

    def __init__(self, connection: Connection) -> None:
        self.written: set[str] = set()
        event.listen(connection, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found = _WRITE.match(statement)
        if found:
            self.written.add(found.group(1))


def snapshot(db: Session, tables: Iterable[str] = TABLES) -> dict[str, str]:
    """A digest of the rows (in primary key order) of ``tables``, by name, and
    ``"#counts"``: the number of rows of every table."""
    digests = {}
    for name in tables:
        if name in TABLES:
            table, skip = TABLES[name], EXCLUDED_COLUMNS.get(name, set())
            columns = [column for column in table.columns if column.name not in skip]
            rows = db.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            digests[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    counts = union_all(*(select(literal(name), func.count()).select_from(table)
                         for name, table in TABLES.items()))
    digests["#counts"] = repr(sorted(db.execute(counts).all()))
    return digests


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What differs: table names, or "#counts"."""
    return sorted(name for name in after if before.get(name) != after[name])
