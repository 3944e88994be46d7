"""Languages: Russian by default, English on request (Flask-Babel).

The language comes from ``?lang=`` (remembered in a cookie, so a switch sticks), else
the browser's Accept-Language, else Russian. Template strings are written in Russian
and translated in ``translations/en``; the catalogues are compiled into the instance
folder when the app starts, so no compiled file lives in git and none goes stale.
"""

from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request
from flask_babel import Babel, get_locale
from werkzeug.wrappers import Response

from webapp.config import PROJECT_ROOT

LANGUAGES = ("ru", "en")
NAMES = {"ru": "Русский", "en": "English"}  # each in itself: a language switch is never translated
DEFAULT = "ru"
COOKIE = "lang"
SOURCE = PROJECT_ROOT / "translations"


def select_locale() -> str:
    """The request's language: an explicit choice, the remembered one, or the browser's."""
    chosen = request.args.get("lang") or request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT) or DEFAULT


def current() -> str:
    """The language of the current request ("ru" or "en"); Russian outside a request."""
    try:
        return str(get_locale() or DEFAULT)
    except RuntimeError:  # no request or app context: the CLI, the worker
        return DEFAULT


def compile_catalogues(target: Path) -> Path:
    """Compile every ``translations/<lang>/LC_MESSAGES/messages.po`` into ``target``."""
    for po in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        mo = target / po.relative_to(SOURCE).with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as source:
            catalogue = read_po(source)
        partial = mo.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as out:
            write_mo(out, catalogue)
        partial.replace(mo)  # atomic: several workers may start at once
    return target


def init_app(app: Flask) -> None:
    compiled = compile_catalogues(Path(app.instance_path) / "translations")
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _language() -> dict[str, str]:
        lang = current()
        other = "en" if lang == "ru" else "ru"
        return {"lang": lang, "other_lang": other, "other_lang_name": NAMES[other]}

    @app.after_request
    def _remember(response: Response) -> Response:
        chosen = request.args.get("lang")
        if chosen in LANGUAGES and request.cookies.get(COOKIE) != chosen:
            response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                                secure=request.is_secure, httponly=True)
        return response
