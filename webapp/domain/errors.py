"""Typed domain errors: a stable code and its params, no text.

Each raise names the situation with a snake_case ``code`` (``vin_malformed``) and
passes the values a message needs as params; without a code an error has its class's
(``InsufficientPoints()`` -> ``insufficient_points``), which is also its ``category``.
The words are chosen where the error is shown, in the reader's language
(:mod:`webapp.error_messages`); entry points map errors to HTTP in one place
(:mod:`webapp.errors`).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class for every error the business rules raise on purpose."""

    code = "domain_error"
    status = 400

    def __init__(self, code: str | None = None, /, **params: Any) -> None:
        self.category = type(self).code  # the class's code: what kind of refusal
        self.code = code or self.category  # this situation's, for the API and the words
        self.params = params
        super().__init__(str(self))

    def __str__(self) -> str:
        """The code and params, for logs: ``points_short(available=3, requested=50)``."""
        shown = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"{self.code}({shown})"


class InvalidInput(DomainError):
    """A value is malformed or outside what the rule allows."""

    code = "invalid_input"
    status = 422


class InvalidAmount(InvalidInput):
    """Points or money that are zero, negative, fractional or absurdly large."""

    code = "invalid_amount"


class InvalidPhone(InvalidInput):
    """A phone number that cannot be a real number in the business's region."""

    code = "invalid_phone"


class InvalidCardNumber(InvalidInput):
    """A card number with the wrong length or a failing check digit."""

    code = "invalid_card_number"


class NotFound(DomainError):
    """The thing does not exist, or not in this business (same answer on purpose)."""

    code = "not_found"
    status = 404


class UnknownCustomer(NotFound):
    code = "unknown_customer"


class UnknownOrder(NotFound):
    code = "unknown_order"


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class Conflict(DomainError):
    """The request contradicts the current state."""

    code = "conflict"
    status = 409


class InsufficientPoints(Conflict):
    code = "insufficient_points"


class IdempotencyConflict(Conflict):
    """The same idempotency key was used before for a different request."""

    code = "idempotency_conflict"


class CustomerNotActive(Conflict):
    """The customer's account is deleted, blocked or merged: their points no longer change."""

    code = "customer_not_active"


class AlreadyResolved(Conflict):
    """A pending hold was already released or cancelled."""

    code = "already_resolved"


class DuplicateAccrual(Conflict):
    """An order already has its accrual (I5: one accrual per order)."""

    code = "duplicate_accrual"


class AlreadyExists(Conflict):
    code = "already_exists"


class WalletUnavailable(DomainError):
    """Apple or Google could not be reached or refused: nothing changed, try again later."""

    code = "wallet_unavailable"
    status = 503
