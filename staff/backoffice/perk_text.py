"""A tier's limited perks as the owner's form writes them, and back:
"Бесплатная диагностика: 1/визит = 1500; Выездной ремонт: 2/год".

Each perk is a title, a limit per visit, month or year (typed in either language) and,
after "=", what one use costs the business in roubles (optional; the cost estimate uses
it). Parsing only: the domain checks the values.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Any

from webapp import i18n
from webapp.catalogue import N_, gettext_for
from webapp.domain.presets import PRESETS
from webapp.domain.program import InvalidSetting

# A limit's period: shown in the page's language, typed in either.
_PERIOD_NAMES = {"visit": N_("визит"), "month": N_("месяц"), "year": N_("год")}
_COST = r"(?:=\s*([0-9][0-9 \u00a0]{0,11}(?:[.,][0-9]{1,2})?)\s*₽?)?"  # "= 1 500,50 ₽"


def _period_words(lang: str) -> dict[str, str]:
    """"visit" -> its word in ``lang``."""
    return {per: gettext_for(lang)(word) for per, word in _PERIOD_NAMES.items()}


def _periods() -> dict[str, str]:
    """Every word a period may be typed as -> the period."""
    return {word: per for lang in i18n.LANGUAGES for per, word in _period_words(lang).items()}


def parse(text: str, row: int) -> list[dict[str, Any]]:
    """The perks of tier ``row`` (0-based) as entitlement dicts; InvalidSetting naming the
    one that cannot be read.

    The code is derived from the title, so the same perk keeps counting its uses
    across versions.
    """
    found = []
    periods = _periods()
    for item in (part.strip() for part in text.split(";")):
        if not item:
            continue
        match = re.fullmatch(r"(.+?):\s*([0-9]{1,6})\s*/\s*(" + "|".join(periods) + r")\s*"
                             + _COST, item)
        if match is None:
            words = _period_words(i18n.current())  # the period words as the page shows them
            raise InvalidSetting("entitlement_malformed", field=f"tiers[{row}]", tier=row + 1,
                                 perk=item, visit=words["visit"], month=words["month"],
                                 year=words["year"])
        title, cost = match.group(1).strip(), match.group(4)
        found.append({"code": _code(title), "title": title, "limit": int(match.group(2)),
                      "per": periods[match.group(3)], "value_minor": _kopecks(cost)})
    return found


def text(tier: Any) -> str:
    """The form's text for a tier's limited perks (the inverse of :func:`parse`)."""
    words = _period_words(i18n.current())
    return "; ".join(f"{e.title}: {e.limit}/{words[str(e.per.value)]}"
                     + (f" = {_rubles(e.value_minor)}" if e.value_minor else "")
                     for e in tier.entitlements)


def _code(title: str) -> str:
    known = {e.title: e.code for p in PRESETS.values() for t in p.tiers for e in t.entitlements}
    if title in known:
        return known[title]
    return "perk-" + hashlib.sha256(title.casefold().encode()).hexdigest()[:10]


def _kopecks(cost: str | None) -> int:
    if not cost:
        return 0
    plain = cost.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    return int(Decimal(plain) * 100)  # at most two decimals: the pattern says so


def _rubles(minor: int) -> str:
    whole, kopecks = divmod(minor, 100)
    return f"{whole},{kopecks:02d}".rstrip("0").rstrip(",") if kopecks else str(whole)
