"""Who is acting: passed explicitly to every service call."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"
    OWNER = "owner"


class ActorKind(StrEnum):
    STAFF = "staff"
    SYSTEM = "system"  # the worker, the demo, expiry runs
    API = "api"  # a shop's CRM or POS
    CUSTOMER = "customer"


@dataclass(frozen=True)
class Actor:
    """The acting party, scoped to one business."""

    business_id: int
    kind: ActorKind
    staff_id: int | None = None
    role: Role | None = None
    branch_ids: frozenset[int] = field(default_factory=frozenset)
    ip: str | None = None
    device: str | None = None

    @classmethod
    def system(cls, business_id: int) -> Actor:
        """The platform itself (scheduled jobs, the demo generator)."""
        return cls(business_id=business_id, kind=ActorKind.SYSTEM)

    @classmethod
    def staff(
        cls,
        business_id: int,
        staff_id: int,
        role: Role,
        branch_ids: frozenset[int] = frozenset(),
        ip: str | None = None,
        device: str | None = None,
    ) -> Actor:
        return cls(business_id, ActorKind.STAFF, staff_id, role, branch_ids, ip, device)

    def is_at_least(self, role: Role) -> bool:
        """True for system actors and for staff with this role or a higher one."""
        if self.kind is ActorKind.SYSTEM:
            return True
        order = [Role.CASHIER, Role.MANAGER, Role.OWNER]
        return self.role is not None and order.index(self.role) >= order.index(role)
