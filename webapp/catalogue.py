"""The translation catalogues, read by explicit language: one text system for every caller.

Pages get their language from Flask-Babel (:mod:`webapp.i18n`); code that runs outside a
request, or must not import Flask (services, the CLI, the worker, error wording), asks
this module for the same ``translations/<lang>`` catalogue by name. Source strings are
Russian, the default language; ``translations/en`` holds English.

Every text is marked for ``pybabel extract`` (see ``babel.cfg``): ``_()`` / ``gettext()``
where it is translated at once, :func:`N_` where it is only marked and translated later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from webapp.config import PROJECT_ROOT
from webapp.domain.words import N_

__all__ = ["N_", "gettext_for", "language", "ngettext_for", "words_for"]

SOURCE = PROJECT_ROOT / "translations"
DEFAULT = "ru"


def language(lang: str | None) -> str:
    """"ru", "ru-RU", "ru_RU" -> "ru"; any language we have no catalogue for -> English."""
    base = (lang or DEFAULT).lower().replace("_", "-").split("-")[0]
    return "ru" if base == "ru" else "en"


@lru_cache(maxsize=8)
def _translations(lang: str) -> NullTranslations:
    po = SOURCE / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return NullTranslations()  # the source strings are Russian
    with po.open("rb") as source:
        catalogue = read_po(source)
    compiled = BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def gettext_for(lang: str | None) -> Callable[[str], str]:
    """``gettext`` in ``lang`` ("ru" returns the source text)."""
    return _translations(language(lang)).gettext


def ngettext_for(lang: str | None) -> Callable[[str, str, int], str]:
    """``ngettext`` in ``lang``."""
    return _translations(language(lang)).ngettext


@dataclass(frozen=True)
class Words:
    """One language's catalogue and its name: the translator the domain's wording takes
    (:class:`webapp.domain.words.Words`)."""

    lang: str
    translations: NullTranslations

    def gettext(self, message: str) -> str:
        """``message`` in this language."""
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form for ``n`` in this language."""
        return self.translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in this language, in ``context``."""
        return str(self.translations.pgettext(context, message))


def words_for(lang: str | None) -> Words:
    """The catalogue of ``lang`` for the domain's wording ("ru", "en-GB", None -> Russian)."""
    name = language(lang)
    return Words(name, _translations(name))
