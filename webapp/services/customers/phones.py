"""Phone numbers normalised to E.164 with Google's libphonenumber rules."""

from __future__ import annotations

import phonenumbers

from webapp.domain.errors import InvalidPhone


def normalise(raw: str, region: str) -> str:
    """E.164 form of ``raw`` read in ``region`` (8 916... works in RU); InvalidPhone if not."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 32:
        raise InvalidPhone("phone_missing")
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone("phone_malformed") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("phone_impossible")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def hint(e164: str) -> str:
    """The phone's last four digits, "•••-45-67": which phone to look at, nothing more."""
    return f"•••-{e164[-4:-2]}-{e164[-2:]}"


_TEXTABLE = {phonenumbers.PhoneNumberType.MOBILE,
             phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def require_mobile(e164: str) -> str:
    """``e164`` if it can get a text message; premium-rate, toll-free and landline numbers
    are refused (codes sent to them would cost money and reach nobody: SMS pumping)."""
    if phonenumbers.number_type(phonenumbers.parse(e164)) not in _TEXTABLE:
        raise InvalidPhone("phone_not_mobile")
    return e164
