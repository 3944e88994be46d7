"""Vehicles and devices: how a plate, VIN, serial or IMEI is compared in searches."""

from __future__ import annotations

from webapp.domain.errors import InvalidInput

KINDS = ("plate", "vin", "serial", "imei")
PLATE_LENGTH = 12  # A123BC777 is 9; room for foreign and trailer plates, not for a sentence

# Russian plates use only Cyrillic letters that look like Latin ones; a cashier may
# type either alphabet, so both fold to the Latin look-alike.
_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def search_key(value: str) -> str:
    """Upper case, no spaces or dashes, Cyrillic look-alikes folded to Latin."""
    return "".join(ch for ch in value.upper() if ch.isalnum()).translate(_LOOKALIKES)


def validate(kind: str, value: str) -> tuple[str, str]:
    """Check an asset and return ``(value as typed, search key)``."""
    if kind not in KINDS:
        raise InvalidInput("asset_kind_unknown", kind=kind)
    value = (value or "").strip()
    key = search_key(value)
    if not 2 <= len(key) <= 40:
        raise InvalidInput("asset_identifier_malformed")
    if kind == "plate" and (len(key) > PLATE_LENGTH or not any(ch.isdigit() for ch in key)):
        raise InvalidInput("plate_malformed")
    if kind == "vin" and (len(key) != 17 or any(ch in key for ch in "IOQ")):
        raise InvalidInput("vin_malformed")
    if kind == "imei" and (len(key) != 15 or not (key.isascii() and key.isdigit())):
        raise InvalidInput("imei_malformed")
    return value, key
