"""The translator the domain's wording takes: gettext and ngettext in one language.

The domain imports only the standard library, so it cannot read the catalogue itself;
callers pass one in (:func:`webapp.catalogue.words_for`). Texts are written
``words.gettext("Русский текст %(x)s") % {"x": ...}``: the Russian is the message id
that ``pybabel extract`` collects, and the catalogue gives it in the reader's language.
"""

from __future__ import annotations

from typing import Protocol


class Words(Protocol):
    """A translation catalogue for one language (``lang``: "ru", "en")."""

    @property
    def lang(self) -> str:
        """The language the catalogue speaks."""
        ...

    def gettext(self, message: str) -> str:
        """``message`` (Russian, the source) in this language."""
        ...

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of a message for ``n`` in this language."""
        ...

    def pgettext(self, context: str, message: str) -> str:
        """``message`` in this language, told apart from the same text by ``context``."""
        ...


class Source:
    """The source language itself: Russian, every text as written."""

    lang = "ru"

    def gettext(self, message: str) -> str:
        """The message unchanged."""
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Singular for 1, plural otherwise (Russian's third form: wording.count)."""
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        """The message unchanged."""
        return message


RUSSIAN: Words = Source()


def N_(text: str) -> str:
    """Mark ``text`` for extraction; it is translated where it is shown."""
    return text
