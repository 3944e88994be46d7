"""The process test_ledger_crash.py kills: accruals through the real service, in order.

Usage: python crash_child.py DATABASE_URL BUSINESS_ID COUNT CUSTOMER_ID...

Prints ``done <i>`` after request ``i`` has committed, so the parent knows how far
it got before it sends SIGKILL. The requests are a pure function of ``i`` (see
:func:`request`), so the parent can retry exactly the same ones afterwards.
"""

from __future__ import annotations

import sys

from sqlalchemy.orm import Session

from webapp.domain.actor import Actor
from webapp.persistence.database import make_engine
from webapp.services.ledger import operations as ledger


def request(i: int, customer_ids: list[int]) -> tuple[str, int, int]:
    """Request ``i``: its idempotency key, customer and points (1 to 250, varying)."""
    return f"crash-k{i:04d}", customer_ids[i % len(customer_ids)], 1 + (i * 37) % 250


def main(argv: list[str]) -> None:
    url, business_id, count, *ids = argv
    customer_ids = [int(c) for c in ids]
    actor = Actor.system(int(business_id))
    engine = make_engine(url)  # its own engine: nothing is shared with the parent
    with Session(engine) as session:
        for i in range(int(count)):
            key, customer_id, points = request(i, customer_ids)
            ledger.accrue(session, actor, key, customer_id=customer_id, points=points)
            print(f"done {i}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
