"""PostgreSQL connections are pinged only after an idle spell: a recently used one is
handed out as it is, one the server dropped while idle is replaced before use."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from webapp.persistence import database
from webapp.persistence.database import make_engine


def _pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_dropped_while_idle_is_replaced(engine: Engine,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    pooled = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1,
                         max_overflow=0)
    try:
        first = _pid(pooled)
        assert _pid(pooled) == first  # used just now: handed out again, no ping needed
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            admin.commit()
        monkeypatch.setattr(database, "PING_IDLE_SECONDS", 0.0)  # it has been idle "long"
        assert _pid(pooled) != first  # pinged, found dead, replaced: the request works
    finally:
        pooled.dispose()
