"""One text system: every user-visible string is in the catalogue and has English.

Source strings are Russian (the default language). ``babel.cfg`` names every place they
are extracted from; these tests extract them the way ``pybabel extract`` does and fail
when one has no English in ``translations/en``, when a translation's placeholders differ
from its source's, or when Russian text sits in code or a page outside the catalogue.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from webapp.catalogue import gettext_for, language
from webapp.config import PROJECT_ROOT

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "_l": None,
            "lazy_gettext": None, "pgettext": ((1, "c"), 2)}
CYRILLIC = re.compile("[А-Яа-яЁё]")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")

# Russian that is data or accepted input, not interface text.
NOT_INTERFACE = {
    "webapp/domain/money.py": "the spellings of rubles an amount may be typed with",
    "webapp/domain/assets.py": "Cyrillic letters that look like Latin ones on a plate",
    "webapp/domain/presets.py": "a preset's tier and perk names: the owner's data, editable",
    "webapp/demo.py": "the demo business's data",
    "webapp/i18n.py": "each language's name in itself, for the language switch",
    "webapp/domain/categories.py": "the Russian alphabet, to transliterate a name to a code",
}

def _mapping() -> tuple[list[tuple[str, str]], dict[str, dict[str, str]]]:
    with (PROJECT_ROOT / "babel.cfg").open() as config:
        return parse_mapping_cfg(config)


def _extracted() -> dict[str, list[str]]:
    """Every marked string (singular and plural forms) -> where it is marked."""
    methods, options = _mapping()
    found: dict[str, list[str]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), methods, options, keywords=KEYWORDS
    ):
        for form in (message,) if isinstance(message, str) else message:
            if form:
                found.setdefault(form, []).append(f"{filename}:{line}")
    return found


def _english() -> dict[str, str]:
    with (PROJECT_ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb") as source:
        catalogue = read_po(source)
    english: dict[str, str] = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        ids = (message.id,) if isinstance(message.id, str) else message.id
        strings = (message.string,) if isinstance(message.string, str) else message.string
        for msgid, text in zip(ids, strings, strict=False):
            if text:
                english[msgid] = text
    return english


def test_every_marked_string_has_english() -> None:
    english = _english()
    missing = {text: where[0] for text, where in _extracted().items() if text not in english}
    assert not missing, (
        "no English in translations/en (see babel.cfg for the commands): "
        + "; ".join(f"{where}: {text!r}" for text, where in sorted(missing.items()))
    )


def test_translations_keep_the_placeholders() -> None:
    wrong = [
        (msgid, text) for msgid, text in _english().items()
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))
    ]
    assert not wrong, wrong


def test_english_has_no_russian_left() -> None:
    assert not [text for text in _english().values() if CYRILLIC.search(text)]


def _marked_python(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every Russian string literal given to a gettext call."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", None)
            if name in KEYWORDS:
                found += [(arg.lineno, arg.value) for arg in node.args
                          if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                          and CYRILLIC.search(arg.value)]
    return found


def test_every_marked_string_is_extracted() -> None:
    """A gettext call pybabel cannot see (inside an f-string) would never get English."""
    extracted = _extracted()
    unseen = [f"{path.relative_to(PROJECT_ROOT)}:{line}: {text!r}"
              for path in _sources() if path.suffix == ".py"
              for line, text in _marked_python(path) if text not in extracted]
    assert not unseen, unseen


def _python_russian(path: Path) -> list[int]:
    """Lines of Russian string literals that are not inside a gettext call or a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", None)
            if name in KEYWORDS:
                marked.update(id(arg) for arg in node.args)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                marked.add(id(body[0].value))
    return sorted({
        node.lineno for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and CYRILLIC.search(node.value) and id(node) not in marked
    })


_TEMPLATE_MARKED = re.compile(
    r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}"  # {% trans %} … {% endtrans %}
    r"|\{#.*?#\}"  # comments
    r"|\b(?:_|gettext|ngettext)\((?:\"[^\"]*\"|'[^']*')",  # _("…")
    re.DOTALL,
)


def _template_russian(path: Path) -> list[int]:
    text = path.read_text(encoding="utf-8")
    blanked = _TEMPLATE_MARKED.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)
    return [n for n, line in enumerate(blanked.splitlines(), 1) if CYRILLIC.search(line)]


def _sources() -> list[Path]:
    python = [p for folder in ("webapp", "staff", "wallet")
              for p in (PROJECT_ROOT / folder).rglob("*.py")]
    pages = list((PROJECT_ROOT / "templates").rglob("*.html"))
    scripts = list((PROJECT_ROOT / "static/js").rglob("*.js"))
    return sorted(python + pages + scripts)


def _russian_outside_catalogue(path: Path) -> list[int]:
    if path.suffix == ".py":
        return _python_russian(path)
    if path.suffix == ".html":
        return _template_russian(path)
    # Scripts take their words from the page (data attributes), never their own.
    return [n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if CYRILLIC.search(line) and not line.lstrip().startswith(("//", "*", "/*"))]


def test_no_russian_outside_the_catalogue() -> None:
    found = {}
    for path in _sources():
        name = str(path.relative_to(PROJECT_ROOT))
        if name in NOT_INTERFACE:
            continue
        lines = _russian_outside_catalogue(path)
        if lines:
            found[name] = lines
    assert not found, f"Russian outside gettext (mark it and add English): {found}"


@pytest.mark.parametrize(("lang", "expected"), [
    ("ru", "ru"), ("ru-RU", "ru"), ("ru_RU", "ru"), ("en", "en"), ("en-GB", "en"),
    ("de", "en"), (None, "ru"),
])
def test_language_of_a_locale(lang: str | None, expected: str) -> None:
    assert language(lang) == expected


def test_catalogue_outside_a_request_speaks_both_languages() -> None:
    english = _english()
    msgid = next(iter(english))
    assert gettext_for("en")(msgid) == english[msgid]
    assert gettext_for("ru-RU")(msgid) == msgid
