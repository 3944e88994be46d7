"""A small client for the Google Wallet REST API (``loyaltyClass`` and ``loyaltyObject``:
get, insert, patch, addMessage), authorised as the service account.

google-auth fetches and renews the OAuth token from the key file's ``token_uri``
(scope ``wallet_object.issuer``); every call, the token request included, times out
after :data:`TIMEOUT` seconds. Google's answers become exceptions: 409 on insert is
:class:`AlreadyExists`, 404 is :class:`NotFound`, a spent notification quota is
:class:`QuotaExceeded`, anything else (and a network failure) :class:`GoogleError`,
so the outbox tries again later.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
from google.auth import exceptions as auth_exceptions
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account

from wallet.google.settings import SCOPE, GoogleSettings

TIMEOUT = 10.0  # seconds, for the token request and each API call
CLASS = "loyaltyClass"
OBJECT = "loyaltyObject"


class GoogleError(Exception):
    """Google Wallet did not do what was asked (or could not be reached)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AlreadyExists(GoogleError):
    """409: an insert of an id that exists."""


class NotFound(GoogleError):
    """404: no class or object with this id."""


class QuotaExceeded(GoogleError):
    """429, or Google's notification quota for the pass is spent."""


class WalletClient:
    """Calls to the Wallet REST API as the settings' service account."""

    def __init__(self, settings: GoogleSettings, *, timeout: float = TIMEOUT) -> None:
        credentials = service_account.Credentials.from_service_account_file(
            settings.credentials_path, scopes=[SCOPE])
        self.api_url = settings.api_url.rstrip("/")
        self.timeout = timeout
        self._http = AuthorizedSession(credentials, refresh_timeout=timeout)

    def get(self, resource: str, resource_id: str) -> dict[str, Any]:
        """The class or object; :class:`NotFound` when there is none."""
        return self._call("GET", f"{resource}/{quote(resource_id, safe='')}")

    def insert(self, resource: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Insert a class or object; :class:`AlreadyExists` when its id is taken."""
        return self._call("POST", resource, body)

    def patch(self, resource: str, resource_id: str,
              body: Mapping[str, Any]) -> dict[str, Any]:
        """Change the given fields (a list given replaces the stored list whole);
        :class:`NotFound` when there is no such class or object."""
        return self._call("PATCH", f"{resource}/{quote(resource_id, safe='')}", body)

    def add_message(self, resource: str, resource_id: str,
                    message: Mapping[str, Any]) -> dict[str, Any]:
        """Add a message to the class or object (``POST .../addMessage`` with
        ``{"message": ...}``); a ``TEXT_AND_NOTIFY`` message also notifies the phone.
        :class:`QuotaExceeded` when the pass's notifications are spent."""
        return self._call("POST", f"{resource}/{quote(resource_id, safe='')}/addMessage",
                          {"message": dict(message)})

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str,
              body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.api_url}/{path}"
        try:
            response = self._http.request(method, url, json=body, timeout=self.timeout)
        except auth_exceptions.GoogleAuthError as error:
            raise GoogleError(f"Google refused the service account's token: {error}") \
                from error
        except requests.RequestException as error:
            raise GoogleError(f"Google Wallet unreachable ({method} {path}):"
                              f" {type(error).__name__}") from error
        if response.status_code < 300:
            try:
                answer = response.json() if response.content else {}
            except ValueError:
                answer = {}
            return answer if isinstance(answer, dict) else {}
        raise _error(method, path, response)


def _error(method: str, path: str, response: requests.Response) -> GoogleError:
    status = response.status_code
    detail = ""
    reason = ""
    try:
        found = response.json().get("error", {})
        detail = str(found.get("message", ""))
        reason = str(found.get("status", ""))
    except (ValueError, AttributeError):
        detail = response.text[:200]
    message = f"Google Wallet answered {status} to {method} {path}: {detail or reason}"
    if status == 409:
        return AlreadyExists(message, status)
    if status == 404:
        return NotFound(message, status)
    if status == 429 or reason == "RESOURCE_EXHAUSTED" or "quota" in detail.lower():
        return QuotaExceeded(message, status)
    return GoogleError(message, status)


@functools.lru_cache(maxsize=8)
def client_for(settings: GoogleSettings) -> WalletClient:
    """One client per settings in a process, so its token is fetched once an hour and
    not on every call."""
    return WalletClient(settings)
