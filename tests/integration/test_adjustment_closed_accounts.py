"""A closed account gets no points (review finding D4), on both engines: closing it
rejects the adjustments waiting for the owner, an approval refuses a customer who is
not active, and the ledger refuses an adjustment on one."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.integration.test_adjustment_requests import (
    REASON,
    adjustments,
    assert_clean,
    available,
    count,
    submit,
)
from webapp.domain.actor import Actor
from webapp.domain.errors import AlreadyResolved, CustomerNotActive
from webapp.persistence.models import AdjustmentRequest, AuditEvent, Business, Customer
from webapp.services.customers import profile as customer_profile
from webapp.services.customers.sign_in import Who
from webapp.services.ledger import adjustment_request_list, adjustment_requests
from webapp.services.ledger import operations as ledger

Keys = Callable[[], str]


def _close(session: Session, business: Business, customer: Customer, how: str = "delete"
           ) -> None:
    me = Who(customer.id, business.id, 0)
    if how == "delete":
        customer_profile.delete_account(session, me, "close-key-01", confirm="удалить", ip=None)
    else:
        customer_profile.withdraw_data_consent(session, me, "close-key-01", confirm="удалить",
                                               ip=None)


@pytest.mark.parametrize("how", ["delete", "withdraw"])
def test_closing_the_account_rejects_its_waiting_requests(
    session: Session, manager: Actor, owner: Actor, business: Business, customer: Customer,
    make_customer: Callable[..., Customer], keys: Keys, how: str,
) -> None:
    """The review's proof of concept: the approval credited 9,000 to a deleted account."""
    other = make_customer(business)
    asked = submit(session, manager, keys(), customer, 9000)
    theirs = submit(session, manager, keys(), other, 9000)
    assert asked.request_id is not None and theirs.request_id is not None
    _close(session, business, customer, how)

    row = session.get(AdjustmentRequest, asked.request_id, populate_existing=True)
    assert row is not None
    assert (row.status, row.decided_by, row.operation_id) == ("rejected", None, None)
    assert row.decision_note == adjustment_requests.CLOSED_ACCOUNT_NOTE
    (decided,) = adjustment_request_list.requests(session, owner, pending=False)
    assert (decided.id, decided.by_system, decided.decided_by) == (asked.request_id, True, None)
    event = session.scalars(select(AuditEvent.details).where(
        AuditEvent.action == "adjustment_request.reject")).one()
    assert json.loads(event)["by"] == "system"
    with pytest.raises(AlreadyResolved):
        adjustment_requests.approve(session, owner, asked.request_id)
    assert adjustments(session, customer) == 0 and available(session, owner, customer) == 0
    # Another customer's request is not touched.
    assert [r.id for r in adjustment_request_list.requests(session, owner)] == [theirs.request_id]
    assert_clean(session)


@pytest.mark.parametrize("status", ["blocked", "deleted"])
def test_an_approval_refuses_a_customer_who_is_not_active(
    session: Session, manager: Actor, owner: Actor, customer: Customer, keys: Keys,
    status: str,
) -> None:
    """A request left pending (made before closing rejected them, or the customer
    blocked): the approval refuses, writes nothing and leaves it for the owner to reject."""
    asked = submit(session, manager, keys(), customer, 9000)
    assert asked.request_id is not None
    session.execute(update(Customer).where(Customer.id == customer.id).values(status=status))
    session.commit()
    with pytest.raises(CustomerNotActive) as refused:
        adjustment_requests.approve(session, owner, asked.request_id)
    assert refused.value.status == 409
    assert count(session, AdjustmentRequest, AdjustmentRequest.status == "pending") == 1
    assert adjustments(session, customer) == 0
    adjustment_requests.reject(session, owner, asked.request_id, "Клиент заблокирован, не надо")


def test_the_ledger_refuses_an_adjustment_on_a_closed_account(
    session: Session, manager: Actor, owner: Actor, business: Business, customer: Customer,
    keys: Keys,
) -> None:
    _close(session, business, customer)
    for actor in (manager, owner):
        with pytest.raises(CustomerNotActive):
            ledger.adjust(session, actor, keys(), customer_id=customer.id, points=10,
                          reason=REASON)
        with pytest.raises(CustomerNotActive):  # neither applied nor asked for
            submit(session, actor, keys(), customer, 9000)
    assert adjustments(session, customer) == 0  # none (it had nothing to forfeit either)
    assert count(session, AdjustmentRequest) == 0
