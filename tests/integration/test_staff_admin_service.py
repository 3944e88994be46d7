"""The owner's staff services: invitations, access resets, (de)activation, roles, and
signing a member out everywhere; every call scoped to the actor's business."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.domain.actor import Actor, Role
from webapp.domain.clock import utcnow
from webapp.domain.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from webapp.persistence.models import AuditEvent, Branch, Business, StaffInvite, StaffUser
from webapp.services.staff import accounts as staff
from webapp.services.staff import sign_in
from webapp.services.staff import team as staff_admin
from webapp.services.staff.team import InvalidInvite, OwnAccount

NEW_PASSWORD = "a brand new secret"


@pytest.fixture
def other_owner(make_staff: Callable[..., Actor], make_business: Callable[..., Business]) -> Actor:
    return make_staff(make_business("Шиномонтаж"), Role.OWNER)


def _invite(
    session: Session, owner: Actor, login: str = "anna", role: str = "cashier"
) -> staff_admin.Invitation:
    return staff_admin.invite(
        session, owner, login=login, display_name="Анна", role=role, branch_ids=None
    )


def _member(session: Session, staff_id: int) -> StaffUser:
    member = session.get(StaffUser, staff_id)
    assert member is not None
    session.refresh(member)
    return member


def test_invite_makes_a_member_without_a_password(
    session: Session, business: Business, owner: Actor
) -> None:
    invitation = _invite(session, owner, login="Anna")
    member = _member(session, invitation.staff_id)
    assert (member.login, member.display_name, member.role) == ("anna", "Анна", "cashier")
    assert member.business_id == business.id and member.active
    assert not staff.has_usable_password(member)
    assert not staff.verify_password(member, "")
    assert sign_in.authenticate(session, business.id, "anna", member.password_hash) is None
    stored = session.scalars(select(StaffInvite).where(StaffInvite.staff_id == member.id)).one()
    assert stored.token_hash == hashlib.sha256(invitation.token.encode()).hexdigest()
    assert invitation.token not in stored.token_hash
    assert len(invitation.token) >= 40
    assert stored.created_by == owner.staff_id and stored.used_at is None
    assert timedelta(hours=71) < invitation.expires_at - utcnow() <= timedelta(hours=72)
    assert (
        session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "staff.invite"))
        == 1
    )


def test_invite_checks_its_input(
    session: Session, business: Business, owner: Actor, other_owner: Actor
) -> None:
    _invite(session, owner)
    with pytest.raises(AlreadyExists):
        _invite(session, owner, login="ANNA")
    with pytest.raises(InvalidInput):
        _invite(session, owner, login="bad login")
    with pytest.raises(InvalidInput):
        _invite(session, owner, login="boris", role="admin")
    foreign = session.scalars(
        select(Branch.id).where(Branch.business_id == other_owner.business_id)
    ).first()
    with pytest.raises(InvalidInput):
        staff_admin.invite(
            session, owner, login="boris", display_name="", role="cashier", branch_ids=[foreign]
        )
    assert session.scalar(select(func.count(StaffUser.id)).where(StaffUser.login == "boris")) == 0


def test_accept_sets_the_password_once(session: Session, business: Business, owner: Actor) -> None:
    invitation = _invite(session, owner)
    details = staff_admin.invite_details(session, business.id, invitation.token)
    assert (details.login, details.display_name) == ("anna", "Анна")
    member = staff_admin.accept(session, business.id, invitation.token, NEW_PASSWORD)
    assert member.password_hash.startswith("$argon2")
    assert sign_in.authenticate(session, business.id, "anna", NEW_PASSWORD) is not None
    with pytest.raises(InvalidInvite):
        staff_admin.accept(session, business.id, invitation.token, "another password!")
    with pytest.raises(InvalidInvite):
        staff_admin.invite_details(session, business.id, invitation.token)
    assert sign_in.authenticate(session, business.id, "anna", NEW_PASSWORD) is not None


def test_a_short_password_uses_nothing_up(
    session: Session, business: Business, owner: Actor
) -> None:
    invitation = _invite(session, owner)
    with pytest.raises(staff.WeakPassword):
        staff_admin.accept(session, business.id, invitation.token, "short")
    assert not staff.has_usable_password(_member(session, invitation.staff_id))
    staff_admin.accept(session, business.id, invitation.token, NEW_PASSWORD)


@pytest.mark.parametrize("case", ["unknown", "expired", "other business", "empty", "deactivated"])
def test_bad_tokens_get_one_answer_and_change_nothing(
    session: Session, business: Business, owner: Actor, other_owner: Actor, case: str
) -> None:
    invitation = _invite(session, owner)
    token, business_id = invitation.token, business.id
    if case == "unknown":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif case == "expired":
        stored = session.scalars(select(StaffInvite)).one()
        stored.expires_at = utcnow() - timedelta(seconds=1)
        session.commit()
    elif case == "other business":
        business_id = other_owner.business_id
    elif case == "empty":
        token = ""
    else:
        staff_admin.set_active(session, owner, invitation.staff_id, False)
    before = _member(session, invitation.staff_id).password_hash
    with pytest.raises(InvalidInvite) as raised:
        staff_admin.accept(session, business_id, token, NEW_PASSWORD)
    assert raised.value.status == 404
    assert _member(session, invitation.staff_id).password_hash == before
    assert session.scalars(select(StaffInvite.used_at)).one() is None


def _session_token(session: Session, staff_id: int) -> str:
    """A signed-in browser's token for the member, as a sign-in makes it."""
    return sign_in.started(session, _member(session, staff_id), ip=None, device=None).token


def test_reset_access_ends_sessions_and_the_old_password(
    session: Session, business: Business, owner: Actor
) -> None:
    first = _invite(session, owner)
    staff_admin.accept(session, business.id, first.token, NEW_PASSWORD)
    epoch = _member(session, first.staff_id).session_epoch
    token = _session_token(session, first.staff_id)
    assert sign_in.load(session, business.id, first.staff_id, epoch, token) is not None
    unused = staff_admin.reset_access(session, owner, first.staff_id)
    second = staff_admin.reset_access(session, owner, first.staff_id)
    member = _member(session, first.staff_id)
    assert member.session_epoch == epoch + 2
    assert sign_in.load(session, business.id, member.id, epoch, token) is None
    assert sign_in.authenticate(session, business.id, "anna", NEW_PASSWORD) is None
    with pytest.raises(InvalidInvite):  # the earlier link was replaced
        staff_admin.accept(session, business.id, unused.token, "yet another secret")
    staff_admin.accept(session, business.id, second.token, "yet another secret")
    assert sign_in.authenticate(session, business.id, "anna", "yet another secret")


def test_deactivating_ends_sessions_for_good(
    session: Session, business: Business, owner: Actor, cashier: Actor
) -> None:
    assert cashier.staff_id is not None
    epoch = _member(session, cashier.staff_id).session_epoch
    token = _session_token(session, cashier.staff_id)
    staff_admin.set_active(session, owner, cashier.staff_id, False)
    assert sign_in.authenticate(session, business.id, "cashier2", "correct horse battery") is None
    staff_admin.set_active(session, owner, cashier.staff_id, True)
    assert sign_in.load(session, business.id, cashier.staff_id, epoch, token) is None
    member = _member(session, cashier.staff_id)
    fresh = _session_token(session, cashier.staff_id)  # a new sign-in works again
    assert sign_in.load(session, business.id, member.id, member.session_epoch, fresh) is not None


def test_role_and_branches(
    session: Session, business: Business, owner: Actor, cashier: Actor, other_owner: Actor
) -> None:
    assert cashier.staff_id is not None
    mine = list(
        session.scalars(
            select(Branch.id).where(Branch.business_id == business.id).order_by(Branch.id)
        )
    )
    staff_admin.set_role_and_branches(
        session, owner, cashier.staff_id, role="manager", branch_ids=mine[:1]
    )
    member = _member(session, cashier.staff_id)
    assert member.role == "manager" and [b.id for b in member.branches] == mine[:1]
    foreign = session.scalars(
        select(Branch.id).where(Branch.business_id == other_owner.business_id)
    ).first()
    with pytest.raises(InvalidInput):
        staff_admin.set_role_and_branches(
            session, owner, cashier.staff_id, role="cashier", branch_ids=[foreign]
        )
    with pytest.raises(InvalidInput):
        staff_admin.set_role_and_branches(
            session, owner, cashier.staff_id, role="boss", branch_ids=None
        )
    member = _member(session, cashier.staff_id)
    assert member.role == "manager" and [b.id for b in member.branches] == mine[:1]
    staff_admin.set_role_and_branches(
        session, owner, cashier.staff_id, role="cashier", branch_ids=[]
    )
    assert _member(session, cashier.staff_id).branches == []  # works at every branch


def test_an_owner_cannot_lock_themselves_out(session: Session, owner: Actor) -> None:
    assert owner.staff_id is not None
    with pytest.raises(OwnAccount):
        staff_admin.set_active(session, owner, owner.staff_id, False)
    with pytest.raises(OwnAccount):
        staff_admin.set_role_and_branches(
            session, owner, owner.staff_id, role="manager", branch_ids=None
        )
    with pytest.raises(OwnAccount):
        staff_admin.reset_access(session, owner, owner.staff_id)
    member = _member(session, owner.staff_id)
    assert member.active and member.role == "owner" and staff.has_usable_password(member)


@pytest.mark.parametrize("role", [Role.CASHIER, Role.MANAGER])
def test_only_owners_manage_staff(
    session: Session, business: Business, owner: Actor, make_staff: Callable[..., Actor], role: Role
) -> None:
    actor = make_staff(business, role)
    assert owner.staff_id is not None
    calls: list[Callable[[], object]] = [
        lambda: staff_admin.list_staff(session, actor),
        lambda: _invite(session, actor),
        lambda: staff_admin.reset_access(session, actor, owner.staff_id),
        lambda: staff_admin.set_active(session, actor, owner.staff_id, False),
        lambda: staff_admin.set_role_and_branches(
            session, actor, owner.staff_id, role="cashier", branch_ids=None
        ),
        lambda: sign_in.sign_out_everywhere(session, actor, owner.staff_id),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    member = _member(session, owner.staff_id)
    assert member.active and member.role == "owner" and member.session_epoch == 0
    assert session.scalar(select(func.count(StaffInvite.id))) == 0


def test_another_business_staff_ids_are_not_found(
    session: Session, owner: Actor, cashier: Actor, other_owner: Actor
) -> None:
    target = cashier.staff_id
    assert target is not None
    calls: list[Callable[[], object]] = [
        lambda: staff_admin.reset_access(session, other_owner, target),
        lambda: staff_admin.set_active(session, other_owner, target, False),
        lambda: staff_admin.set_role_and_branches(
            session, other_owner, target, role="owner", branch_ids=None
        ),
        lambda: sign_in.sign_out_everywhere(session, other_owner, target),
        lambda: staff_admin.reset_access(session, other_owner, 10**9),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    member = _member(session, target)
    assert member.active and member.role == "cashier" and member.session_epoch == 0
    assert staff.verify_password(member, "correct horse battery")
    listed = staff_admin.list_staff(session, other_owner).members
    assert [m.id for m in listed] == [other_owner.staff_id]


def test_list_staff_shows_who_waits_for_an_invitation(
    session: Session, owner: Actor, cashier: Actor
) -> None:
    invitation = _invite(session, owner)
    listed = {m.id: m for m in staff_admin.list_staff(session, owner).members}
    assert set(listed) == {owner.staff_id, cashier.staff_id, invitation.staff_id}
    waiting = listed[invitation.staff_id]
    assert not waiting.has_password and waiting.invite_expires_at == invitation.expires_at
    assert listed[cashier.staff_id].has_password
    assert listed[cashier.staff_id].invite_expires_at is None


def test_sign_out_everywhere(
    session: Session,
    business: Business,
    owner: Actor,
    cashier: Actor,
    make_staff: Callable[..., Actor],
) -> None:
    assert cashier.staff_id is not None and owner.staff_id is not None
    token = _session_token(session, cashier.staff_id)
    sign_in.sign_out_everywhere(session, cashier, cashier.staff_id)  # themselves
    assert _member(session, cashier.staff_id).session_epoch == 1
    sign_in.sign_out_everywhere(session, owner, cashier.staff_id)  # their owner
    assert _member(session, cashier.staff_id).session_epoch == 2
    assert sign_in.load(session, business.id, cashier.staff_id, 1, token) is None
    token = _session_token(session, cashier.staff_id)
    assert sign_in.load(session, business.id, cashier.staff_id, 2, token) is not None
    colleague = make_staff(business, Role.MANAGER)
    with pytest.raises(PermissionDenied):  # not a colleague's
        sign_in.sign_out_everywhere(session, colleague, cashier.staff_id)
    assert _member(session, cashier.staff_id).session_epoch == 2
