"""A business's logo: any PNG, JPEG or WebP an owner has, stored as one clean PNG.

Pillow decodes the upload (so a file that only looks like an image is refused), drops
its metadata, and scales it to fit 512×512; the card shows it, and wallet passes will
cut their icons from it. Storing one is a write scope of the unit of work
(:mod:`webapp.services.unit_of_work`), reading it a read scope.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.domain.clock import utcnow
from webapp.domain.errors import InvalidInput, NotFound
from webapp.persistence.models import Business, BusinessLogo
from webapp.services.notify import wallet_updates
from webapp.services.unit_of_work import reads, writes

MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 512
FORMATS = ("PNG", "JPEG", "WEBP")
_MAX_PIXELS = 40_000_000  # a "decompression bomb" is refused before it is decoded


@dataclass(frozen=True)
class Logo:
    png: bytes
    width: int
    height: int
    updated_at: datetime


@writes
def set_logo(session: Session, business_id: int, data: bytes,
             now: datetime | None = None) -> Logo:
    """Check, normalise and store the business's logo (a write scope)."""
    if session.get(Business, business_id) is None:
        raise NotFound("unknown_business")
    if not data or len(data) > MAX_BYTES:
        raise InvalidInput("logo_too_large")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in FORMATS or image.width * image.height > _MAX_PIXELS:
                raise InvalidInput("logo_size_malformed")
            image.load()
            clean = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise InvalidInput("logo_not_image") from None
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    clean.save(out, "PNG", optimize=True)
    logo = session.get(BusinessLogo, business_id) or BusinessLogo(business_id=business_id)
    logo.png, logo.width, logo.height = out.getvalue(), clean.width, clean.height
    logo.updated_at = now or utcnow()
    session.add(logo)
    wallet_updates.business_changed(session, business_id, now)  # the passes' images too
    return Logo(logo.png, logo.width, logo.height, logo.updated_at)


@reads
def logo_of(session: Session, business_id: int) -> Logo | None:
    """The stored logo, or None."""
    row = session.execute(select(BusinessLogo.png, BusinessLogo.width, BusinessLogo.height,
                                 BusinessLogo.updated_at)
                          .where(BusinessLogo.business_id == business_id)).first()
    return Logo(*row) if row else None


def stamp(session: Session, business_id: int) -> int | None:
    """When the logo last changed (seconds), for URLs that change with it; None without.

    Within the caller's transaction (card and pass views ask it as they are built)."""
    updated = session.scalar(select(BusinessLogo.updated_at)
                             .where(BusinessLogo.business_id == business_id))
    return int(updated.timestamp()) if updated else None
