"""Which wallets this installation can issue passes to (each is off until configured)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from wallet.apple.settings import settings_of as apple_settings_of
from wallet.google.settings import settings_of as google_settings_of


@dataclass(frozen=True)
class Wallets:
    apple: bool
    google: bool

    @property
    def any(self) -> bool:
        return self.apple or self.google


def of(app: Flask) -> Wallets:
    """The configured wallets (settings are read once per app and cached)."""
    return Wallets(apple=apple_settings_of(app) is not None,
                   google=google_settings_of(app) is not None)
