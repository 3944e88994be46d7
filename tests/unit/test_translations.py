"""Every string the customer pages show has its English translation."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from webapp.config import PROJECT_ROOT

METHODS = [("templates/customer/**.html", "jinja2"), ("templates/base.html", "jinja2"),
           ("templates/error.html", "jinja2")]


def _in_templates() -> set[str]:
    found = extract_from_dir(str(PROJECT_ROOT), METHODS,
                             options_map={pattern: {} for pattern, _ in METHODS})
    return {message if isinstance(message, str) else message[0]
            for _file, _line, message, _comments, _context in found}


def test_every_template_string_is_translated_to_english() -> None:
    with (PROJECT_ROOT / "translations/en/LC_MESSAGES/messages.po").open("rb") as source:
        catalogue = read_po(source)
    translated = {m.id for m in catalogue if m.id and m.string and not m.fuzzy}
    missing = _in_templates() - translated
    assert not missing, f"add to translations/en (pybabel extract + update): {sorted(missing)}"


def test_babel_cfg_names_the_same_templates() -> None:
    config = (PROJECT_ROOT / "babel.cfg").read_text()
    for pattern, method in METHODS:
        assert f"[{method}: {pattern}]" in config
