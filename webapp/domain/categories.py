"""The business's own categories of works and parts: their rules, codes and the starting list.

A category has a code (what order lines and stamp cards name, never changed once
given), a Russian name, an optional English one and a kind (work, part, other: what a
new line in it is). A code is derived from the Russian name by transliteration
(:func:`code_from_name`: "Замена масла" -> ``zamena_masla``) unless the owner gives one.
Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webapp.domain.errors import InvalidInput
from webapp.domain.wording import is_ru
from webapp.domain.words import N_

KINDS = ("work", "part", "other")
NAME_MAX = 100  # service_categories.name_ru / name_en
CODE_MAX = 64  # service_categories.code, order_lines.category
CODE = re.compile(r"[a-z][a-z0-9_]*")
FALLBACK_CODE = "category"  # a name with no letter or digit to transliterate

# Russian letters in Latin, the familiar way (as on passports since 2014, with й -> y).
_LATIN = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p",
     "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"],
    strict=True,
))
_NOT_CODE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Seed:
    """A category a new business starts with: its code, Russian name (a catalogue
    message id, so the English comes from the catalogue) and kind."""

    code: str
    name: str
    kind: str


# A car service's or repair shop's usual list; the codes are those the presets' stamp
# cards and the demo's orders use (and webapp.domain.wording.CATEGORIES names).
STARTING = (
    Seed("oil_change", N_("Замена масла"), "work"),
    Seed("diagnostics", N_("Диагностика"), "work"),
    Seed("tyres", N_("Шиномонтаж"), "work"),
    Seed("maintenance", N_("Техническое обслуживание"), "work"),
    Seed("brakes", N_("Ремонт тормозов"), "work"),
    Seed("suspension", N_("Ремонт подвески"), "work"),
    Seed("repair", N_("Ремонт"), "work"),
    Seed("parts", N_("Запчасти"), "part"),
    Seed("consumables", N_("Расходные материалы"), "part"),
)


def transliterate(text: str) -> str:
    """Russian letters in Latin ("Шиномонтаж" -> "shinomontazh"), lower case; other
    characters as they are (lower-cased)."""
    return "".join(_LATIN.get(ch, ch) for ch in text.lower())


def code_from_name(name: str) -> str:
    """A code for a category named ``name``: its transliteration as a slug of a-z, 0-9
    and _, starting with a letter, at most :data:`CODE_MAX` characters."""
    slug = _NOT_CODE.sub("_", transliterate(name)).strip("_")
    if slug and not slug[0].isalpha():
        slug = f"c_{slug}"
    return slug[:CODE_MAX].rstrip("_") or FALLBACK_CODE


def check_code(code: str) -> str:
    """A code the owner typed, trimmed; InvalidInput unless it is a slug."""
    code = (code or "").strip()
    if not CODE.fullmatch(code) or len(code) > CODE_MAX:
        raise InvalidInput("category_code_malformed", max=CODE_MAX)
    return code


def _clean(name: str | None) -> str:
    """Trimmed, single-spaced, without control characters."""
    return "".join(ch for ch in " ".join((name or "").split()) if ch.isprintable())


def check_name_ru(name: str) -> str:
    """The Russian (main) name, trimmed and single-spaced; InvalidInput if empty or long."""
    name = _clean(name)
    if not name:
        raise InvalidInput("category_name_missing")
    if len(name) > NAME_MAX:
        raise InvalidInput("category_name_too_long", max=NAME_MAX)
    return name


def check_name_en(name: str | None) -> str | None:
    """The English name, trimmed; None when empty (the Russian one is shown then)."""
    name = _clean(name)
    if len(name) > NAME_MAX:
        raise InvalidInput("category_name_too_long", max=NAME_MAX)
    return name or None


def check_kind(kind: str) -> str:
    """work, part or other; InvalidInput otherwise."""
    if kind not in KINDS:
        raise InvalidInput("category_kind_unknown")
    return kind


def shown_name(name_ru: str, name_en: str | None, lang: str) -> str:
    """The name in ``lang``: English when asked and given, the Russian one otherwise."""
    return name_ru if is_ru(lang) or not name_en else name_en
