"""All mapped classes; importing this module registers every table on Base.metadata."""

from webapp.persistence.models.adjustment import AdjustmentRequest
from webapp.persistence.models.business import Branch, Business, BusinessLogo
from webapp.persistence.models.counter import (
    AbuseFlag,
    AuditEvent,
    CustomerNote,
    RedeemConfirmation,
    StaffInvite,
)
from webapp.persistence.models.customer import Asset, CheckinUse, Customer
from webapp.persistence.models.customer_app import (
    Consent,
    CustomerSession,
    OutboxMessage,
    SignInCode,
)
from webapp.persistence.models.ledger import (
    Account,
    Entry,
    IdempotencyKey,
    Lot,
    Operation,
    Transfer,
)
from webapp.persistence.models.limits import RateCounter
from webapp.persistence.models.order import Order, OrderLine, ServiceCategory
from webapp.persistence.models.program import EntitlementUse, ProgramVersion
from webapp.persistence.models.push import PushReminder, PushSubscription
from webapp.persistence.models.staff import StaffSession, StaffUser, staff_branches
from webapp.persistence.models.wallet import PassRegistration, WalletPass

__all__ = [
    "AbuseFlag",
    "Account",
    "AdjustmentRequest",
    "Asset",
    "AuditEvent",
    "Branch",
    "Business",
    "BusinessLogo",
    "CheckinUse",
    "Consent",
    "Customer",
    "CustomerNote",
    "CustomerSession",
    "EntitlementUse",
    "Entry",
    "IdempotencyKey",
    "Lot",
    "Operation",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "PassRegistration",
    "ProgramVersion",
    "PushReminder",
    "PushSubscription",
    "RateCounter",
    "RedeemConfirmation",
    "ServiceCategory",
    "SignInCode",
    "StaffInvite",
    "StaffSession",
    "StaffUser",
    "Transfer",
    "WalletPass",
    "staff_branches",
]
