"""Consents a customer gives (152-FZ): what each one says, and which version they saw.

Consent to the processing of personal data and consent to advertising messages are
separate: the first is needed to have an account at all, the second only for
marketing. A text's version changes whenever its wording does, so the record says
exactly what the person agreed to. The texts are in the catalogue (Russian is the
source, the version's wording); a page shows them with ``gettext(text.text)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from webapp.domain.words import N_


class ConsentKind(StrEnum):
    PERSONAL_DATA = "personal_data"
    ADVERTISING = "advertising"


@dataclass(frozen=True)
class ConsentText:
    kind: ConsentKind
    version: str
    text: str  # the Russian wording of this version, marked for the catalogue


TEXTS: dict[ConsentKind, ConsentText] = {
    ConsentKind.PERSONAL_DATA: ConsentText(
        ConsentKind.PERSONAL_DATA, "pd-2026-11-30",
        N_("Даю согласие на обработку моих персональных данных (телефон, имя, дата рождения, "
           "история визитов) для участия в программе лояльности."),
    ),
    ConsentKind.ADVERTISING: ConsentText(
        ConsentKind.ADVERTISING, "ad-2026-11-30",
        N_("Даю согласие на получение рекламных сообщений: акции и напоминания о баллах."),
    ),
}


@dataclass(frozen=True)
class ConsentState:
    """What a customer has agreed to right now (the newest record of each kind)."""

    personal_data: bool
    advertising: bool
