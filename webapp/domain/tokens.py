"""Bearer tokens (device sessions, staff sessions, staff invitations): only a hash of a
token is stored, so a copy of the database cannot be used to sign in."""

from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """What is stored for ``token``: its sha256, hex (tokens are random, so no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()
