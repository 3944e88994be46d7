"""Fixtures shared by the integration tests of the web areas (counter, customer app)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.migrating import empty_database
from tests.web_client import PASSWORD
from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.presets import DEMO
from webapp.persistence.models import Branch
from webapp.services.business import setup as businesses
from webapp.services.program import versions as programs
from webapp.services.staff import accounts as staff


@pytest.fixture
def empty_engine(engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """An empty database on the test's engine, for migrating step by step."""
    yield from empty_database(engine, tmp_path)


@pytest.fixture
def shop(app: Any) -> SimpleNamespace:
    """The business, its branches (Центр, Север) and a DEMO program in force."""
    return make_shop(app.test_session())


def make_shop(db: Session) -> SimpleNamespace:
    """Make the shop of :func:`shop` through ``db``: id, centre, north, owner (an Actor)."""
    made = businesses.create_business(db, name="Гараж на Лесной", branches=["Центр", "Север"])
    branches = list(db.scalars(select(Branch.id).where(Branch.business_id == made.id)
                               .order_by(Branch.id)))
    owner = staff.create_staff(db, business_id=made.id, login="owner", password=PASSWORD,
                               role=Role.OWNER.value)
    owner_actor = Actor.staff(made.id, owner.id, Role.OWNER)
    programs.save(db, owner_actor, "program-key-1", settings=DEMO,
                  now=utcnow() - timedelta(days=1))
    return SimpleNamespace(id=made.id, centre=branches[0], north=branches[1],
                           owner=owner_actor)


def committed_staff(db: Session, roles: tuple[Role, ...]) -> dict[Role, Actor]:
    """A business ("Гараж") with one staff member per role, committed through ``db`` (for
    tests whose threads need real commits); the actors, by role."""
    business_id = businesses.create_business(db, name="Гараж").id
    made = {role: staff.create_staff(db, business_id=business_id, login=role.value,
                                     password=PASSWORD, role=role.value) for role in roles}
    return {role: Actor.staff(business_id, member.id, role) for role, member in made.items()}
