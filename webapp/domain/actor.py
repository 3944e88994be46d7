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
    # Where the staff member acts from (the counter's branch): recorded in the audit trail.
    branch_id: int | None = None

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
        branch_id: int | None = None,
    ) -> Actor:
        return cls(business_id, ActorKind.STAFF, staff_id, role, branch_ids, ip, device,
                   branch_id)

    def may_work_at(self, branch_id: int) -> bool:
        """Owners and system actors everywhere; others only at their own branches.

        A staff member with no branch assigned works at every branch of the business.
        """
        if self.kind is not ActorKind.STAFF or self.role is Role.OWNER:
            return True
        return not self.branch_ids or branch_id in self.branch_ids

    def is_at_least(self, role: Role) -> bool:
        """True for system actors and for staff with this role or a higher one."""
        if self.kind is ActorKind.SYSTEM:
            return True
        order = [Role.CASHIER, Role.MANAGER, Role.OWNER]
        return self.role is not None and order.index(self.role) >= order.index(role)
