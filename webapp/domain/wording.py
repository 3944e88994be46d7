"""Numbers and words for people, in Russian and English, without Babel.

Words come from the translator the caller passes (:class:`webapp.domain.words.Words`).
Money is integer minor units and percentages integer basis points (see
:mod:`webapp.domain.program`); these helpers only format, they never round a balance.
Pure: standard library only, usable from the domain.
"""

from __future__ import annotations

import re

from webapp.domain.words import N_, Words

NBSP = "\u00a0"  # between a number and its unit: "5 %", "15 000 ₽"
NNBSP = "\u202f"  # the Russian thousands separator
SYMBOLS = {"RUB": "₽", "USD": "$", "EUR": "€", "GBP": "£", "KZT": "₸", "UAH": "₴",
           "BYN": "Br", "GEL": "₾", "TRY": "₺", "AMD": "֏"}
# Service categories a customer recognises: (noun, its Russian gender for "6-я/6-й/6-е").
CATEGORIES = {
    "oil_change": (N_("замена масла"), "f"),
    "diagnostics": (N_("диагностика"), "f"),
    "tyres": (N_("шиномонтаж"), "m"),
    "brakes": (N_("ремонт тормозов"), "m"),
    "suspension": (N_("ремонт подвески"), "m"),
    "maintenance": (N_("ТО"), "n"),
    "repair": (N_("ремонт"), "m"),
    "car_wash": (N_("мойка"), "f"),
}
_TERMINAL = re.compile(r"(?<!\d)[.!?…]+|[.!?…]+(?!\d)")  # the period of "2.5" is kept


def is_ru(lang: str) -> bool:
    """Russian for "ru", "ru-RU", "ru_RU"; every other language gets English."""
    return lang.lower().replace("_", "-").split("-")[0] == "ru"


def format_points(n: int, words: Words, shown: str | None = None) -> str:
    """Points for people: "1 250 баллов" (ru), "1,250 points" (en); ``shown`` writes the
    number another way ("+5000") while the noun still agrees with ``n``."""
    return count(words, n, words.gettext("%(n)s балл"), words.gettext("%(n)s балла"),
                 words.gettext("%(n)s баллов"),
                 shown=number(n, words.lang) if shown is None else shown)


def number(n: int, lang: str) -> str:
    """A whole number with thousands separated: "15 000" (ru), "15,000" (en)."""
    return f"{n:,}".replace(",", NNBSP) if is_ru(lang) else f"{n:,}"


def count(words: Words, n: int, one: str, few: str, many: str, shown: str | None = None
          ) -> str:
    """``n`` (or its ``shown`` form) with its noun, given the three forms already
    translated, each with ``%(n)s``: Russian's rule in Russian (1 балл, 2 балла, 5 баллов,
    21 балл), one/other in English ("1 point", "21 points"). Where Russian's "one" and
    "many" read the same (1 раз, 5 раз), mark "one" with ``words.pgettext("one", …)``."""
    return pick(words, n, one, few, many) % {"n": str(n) if shown is None else shown}


def pick(words: Words, n: int, one: str, few: str, many: str) -> str:
    """Which of three translated forms goes with ``n`` (see :func:`count`)."""
    if is_ru(words.lang):
        return plural(n, one, few, many)
    return one if n == 1 else many


def format_percent(bp: int, lang: str) -> str:
    """Basis points as a percentage: 500 -> "5 %" (ru) / "5%" (en), 250 -> "2,5 %" / "2.5%"."""
    ru = is_ru(lang)
    return number_bp(bp, ru) + (NBSP + "%" if ru else "%")


def percent(bp: int, ru: bool) -> str:
    """:func:`format_percent` for code that already decided the language."""
    return format_percent(bp, "ru" if ru else "en")


def percent_range(low: int, high: int, ru: bool) -> str:
    """ "3–15 %" / "3–15%", or one percentage when both ends are the same."""
    return percent(high, ru) if low == high else f"{number_bp(low, ru)}–{percent(high, ru)}"


def number_bp(bp: int, ru: bool) -> str:
    """Basis points as a bare number of percent, with a decimal comma in Russian."""
    whole, frac = divmod(abs(bp), 100)
    text = str(whole) + ((("," if ru else ".") + f"{frac:02d}".rstrip("0")) if frac else "")
    return ("-" if bp < 0 else "") + text


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for n: 1 заказ, 2 заказа, 5 заказов, 21 заказ, 11 заказов."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    return few if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else many


def ordinal_en(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def clean(text: str) -> str:
    """Business text made safe inside a sentence: no sentence ends, one line."""
    return " ".join(_TERMINAL.sub(" ", text).split()).strip(" ,;:—-")


def capital(text: str) -> str:
    """The text with its first letter capitalised and the rest untouched."""
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Lower a leading capital unless it starts an acronym ("SMS-уведомления")."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


def language_of_locale(locale: str) -> str:
    """The language ("ru" or "en") a business with this locale speaks outside the app,
    e.g. on wallet passes: English for an English locale, Russian otherwise."""
    return "en" if (locale or "").lower().startswith("en") else "ru"
