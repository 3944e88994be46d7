"""Google Wallet settings, from the app's ``REGULARS_*`` values (``settings.extra``,
where they arrive without the prefix):

- ``REGULARS_GOOGLE_ISSUER_ID``: the issuer id from the Google Pay & Wallet Console
  (digits); every class and object id starts with it.
- ``REGULARS_GOOGLE_CREDENTIALS``: the path of the service account's JSON key file
  (the account must be added as a user of the issuer account in the console).
- ``REGULARS_GOOGLE_API_URL``: the Wallet REST API's base URL; Google's by default,
  tests point it at a local stand-in.

Without the first two Google Wallet is off: :func:`load` returns None and nothing
fails. A broken configuration is off as well (logged once per load);
:func:`problems` says in plain words what is wrong, for ``regulars wallet check``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_API_URL = "https://walletobjects.googleapis.com/walletobjects/v1"
SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
EXTENSION = "regulars_google"  # app.extensions key of the parsed settings (None: off)
_KEY_FIELDS = ("client_email", "private_key", "token_uri")

log = logging.getLogger("regulars.wallet.google")


@dataclass(frozen=True)
class GoogleSettings:
    """Google Wallet is on: who issues, with which key, through which API."""

    issuer_id: str
    credentials_path: str
    service_account_email: str
    api_url: str = DEFAULT_API_URL


def _text(extra: Mapping[str, Any], name: str) -> str:
    value = extra.get(name)
    return str(value).strip() if value is not None else ""


def configured(extra: Mapping[str, Any]) -> bool:
    """Whether any Google Wallet setting is given (all unset = off on purpose)."""
    return bool(_text(extra, "GOOGLE_ISSUER_ID") or _text(extra, "GOOGLE_CREDENTIALS"))


def _read_key(path: str) -> tuple[dict[str, Any] | None, str | None]:
    """The key file's JSON, or the reason it cannot be used."""
    try:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
    except OSError as error:
        return None, f"Google credentials unreadable: {path}: {error.strerror or error}."
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None, f"Google credentials unreadable: {path} is not a JSON file."
    if not isinstance(info, dict):
        return None, f"Google credentials unreadable: {path} is not a JSON object."
    return info, None


def problems(extra: Mapping[str, Any]) -> list[str]:
    """What is wrong with the Google Wallet settings, in plain English; [] when they
    are fine or when Google Wallet is simply not configured."""
    if not configured(extra):
        return []
    found: list[str] = []
    issuer = _text(extra, "GOOGLE_ISSUER_ID")
    path = _text(extra, "GOOGLE_CREDENTIALS")
    if not issuer:
        found.append("REGULARS_GOOGLE_ISSUER_ID is missing: copy the issuer id from the"
                     " Google Pay & Wallet Console.")
    elif not issuer.isdigit():
        found.append(f"REGULARS_GOOGLE_ISSUER_ID must be the console's issuer id (digits"
                     f" only), not {issuer!r}.")
    if not path:
        found.append("REGULARS_GOOGLE_CREDENTIALS is missing: give the path of the service"
                     " account's JSON key file.")
    else:
        info, reason = _read_key(path)
        if reason:
            found.append(reason)
        elif info is not None:
            missing = [f for f in _KEY_FIELDS if not isinstance(info.get(f), str)
                       or not info[f]]
            if info.get("type") != "service_account" or missing:
                found.append(f"Google credentials in {path} are not a service-account key"
                             f" (expected \"type\": \"service_account\" with"
                             f" {', '.join(_KEY_FIELDS)}).")
            else:
                from google.auth import crypt

                try:
                    crypt.RSASigner.from_service_account_info(info)
                except (ValueError, TypeError) as error:
                    found.append(f"Google credentials unreadable: the private key in {path}"
                                 f" cannot be loaded ({error}).")
    api_url = _text(extra, "GOOGLE_API_URL")
    if api_url:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            found.append(f"REGULARS_GOOGLE_API_URL must be an http(s) URL, not {api_url!r}.")
    return found


def load(extra: Mapping[str, Any]) -> GoogleSettings | None:
    """The settings, or None when Google Wallet is off (not configured, or configured
    wrongly: then a warning names the problems). Never raises."""
    if not configured(extra):
        return None
    found = problems(extra)
    if found:
        log.warning("Google Wallet is off: %s", " ".join(found))
        return None
    path = _text(extra, "GOOGLE_CREDENTIALS")
    info, _ = _read_key(path)
    if info is None:  # gone since problems() read it a moment ago
        return None
    return GoogleSettings(
        issuer_id=_text(extra, "GOOGLE_ISSUER_ID"), credentials_path=path,
        service_account_email=str(info["client_email"]),
        api_url=(_text(extra, "GOOGLE_API_URL") or DEFAULT_API_URL).rstrip("/"))


def settings_of(app: Any) -> GoogleSettings | None:
    """The Flask app's Google settings, read once and kept in ``app.extensions``."""
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = load(app.config["REGULARS"].extra)
    settings: GoogleSettings | None = app.extensions[EXTENSION]
    return settings
