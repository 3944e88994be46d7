"""A domain error stopping a command, worded in the business's language (or Russian)."""

from __future__ import annotations

from typing import NoReturn

import click

from webapp.current import unit_of_work
from webapp.domain.errors import DomainError
from webapp.domain.wording import language_of_locale
from webapp.error_messages import describe


def business_language(business_id: int | None = None, *, locale: str | None = None) -> str:
    """The language a business speaks ("ru" or "en"): by its locale, given or stored;
    Russian when there is no such business."""
    if locale is not None:
        return language_of_locale(locale)
    if business_id is None:
        return "ru"
    from webapp.services.business import setup

    try:
        return setup.language_of(unit_of_work(), business_id)
    except DomainError:
        return "ru"


def fail(error: DomainError, business_id: int | None = None, *, lang: str | None = None,
         locale: str | None = None) -> NoReturn:
    """Stop the command with the error's message (exit status 1), in ``lang`` if given,
    else in the business's language."""
    lang = lang or business_language(business_id, locale=locale)
    raise click.ClickException(describe(error, lang)) from None
