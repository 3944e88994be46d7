"""The "Save to Google Wallet" link: a JWT signed (RS256) with the service account's key
that names an object already inserted through the REST API by its id only, so the
link stays short and holds nothing but the id. The signed-in customer's link (the
object put first) is :func:`webapp.services.wallet.google_objects.save_link`."""

from __future__ import annotations

import time
from collections.abc import Iterable
from urllib.parse import urlsplit

from google.auth import crypt, jwt

from wallet.google.settings import GoogleSettings

SAVE_URL = "https://pay.google.com/gp/v/save/"


def save_jwt(settings: GoogleSettings, object_id: str, origins: Iterable[str],
             now: float | None = None) -> str:
    """The signed JWT: iss = the service account, aud "google", typ "savetowallet",
    ``origins`` = the sites that may show the button, payload = the object's id."""
    signer = crypt.RSASigner.from_service_account_file(settings.credentials_path)
    claims = {
        "iss": settings.service_account_email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": int(now if now is not None else time.time()),
        "origins": list(origins),
        "payload": {"loyaltyObjects": [{"id": object_id}]},
    }
    token: bytes = jwt.encode(signer, claims)
    return token.decode("ascii")


def save_url(settings: GoogleSettings, object_id: str, origins: Iterable[str]) -> str:
    """``https://pay.google.com/gp/v/save/<jwt>`` for the inserted object."""
    return SAVE_URL + save_jwt(settings, object_id, origins)


def origin_of(base_url: str) -> str:
    """``scheme://host[:port]`` of the app's base URL: the site that shows the button."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"
