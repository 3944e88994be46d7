"""Every domain error message has a Russian text, with the same placeholders.

The scan reads every module under webapp/ and staff/, collects the DomainError
subclasses (those in webapp.domain.errors and, transitively, any class whose base
is one), and checks each ``SomeError("template", ...)`` call against the catalog.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pytest

from webapp.domain import errors
from webapp.domain.errors import DomainError, InsufficientPoints, InvalidInput, NotFound
from webapp.error_text import RU, RU_BY_CODE, message

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("webapp", "staff")
CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)


@dataclass(frozen=True)
class Raised:
    where: str
    cls: str
    code: str
    template: str | None  # None: built at run time (an f-string or an expression)


def _modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for folder in SCANNED
        for path in sorted((ROOT / folder).rglob("*.py"))
    }


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _own_code(node: ast.ClassDef) -> str | None:
    for statement in node.body:
        if (
            isinstance(statement, ast.Assign)
            and any(_name(t) == "code" for t in statement.targets)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        ):
            return statement.value.value
    return None


def _error_classes(modules: dict[str, ast.Module]) -> dict[str, str]:
    """Every DomainError subclass by name, with its code (inherited if not its own)."""
    known = {
        name: value.code
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, DomainError)
    }
    classes = [
        n for tree in modules.values() for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
    ]
    grew = True
    while grew:
        grew = False
        for node in classes:
            if node.name in known:
                continue
            parents = [_name(base) for base in node.bases]
            parent = next((p for p in parents if p in known), None)
            if parent is not None:
                known[node.name] = _own_code(node) or known[parent]
                grew = True
    return known


def _message_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "message"), None)


def _is_super_init(func: ast.expr) -> bool:
    """``super().__init__``: a subclass building its own message."""
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and _name(func.value.func) == "super"
    )


def _calls(node: ast.AST, cls: str | None) -> list[tuple[ast.Call, str]]:
    """Calls that make an error, with its class: ``SomeError(...)`` anywhere, and
    ``super().__init__(...)`` inside the class definition of an error."""
    found = []
    for child in ast.iter_child_nodes(node):
        inner = child.name if isinstance(child, ast.ClassDef) else cls
        if isinstance(child, ast.Call):
            name = cls if _is_super_init(child.func) else _name(child.func)
            if name is not None:
                found.append((child, name))
        found.extend(_calls(child, inner))
    return found


def _raised(modules: dict[str, ast.Module]) -> list[Raised]:
    classes = _error_classes(modules)
    found = []
    for where, tree in modules.items():
        for call, cls in _calls(tree, None):
            arg = _message_arg(call)
            if cls not in classes or arg is None:
                continue
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            template = str(getattr(arg, "value", "")) if literal else None
            found.append(Raised(f"{where}:{call.lineno}", cls, classes[cls], template))
    return found


def _fields(template: str) -> set[str]:
    return {
        re.split(r"[.\[]", field)[0]
        for _, field, _, _ in string.Formatter().parse(template)
        if field is not None
    }


MODULES = _modules()
RAISED = _raised(MODULES)
ENGLISH = [r for r in RAISED if r.template is not None and not CYRILLIC.search(r.template)]
DYNAMIC = [r for r in RAISED if r.template is None]


def test_the_scan_finds_errors_across_the_code() -> None:
    files = {r.where.split(":")[0] for r in RAISED}
    assert len(RAISED) > 50
    assert {"webapp/services/counter/checkins.py", "webapp/domain/ledger.py"} <= files
    classes = _error_classes(MODULES)
    assert classes["CodeAlreadyUsed"] == "checkin_code_used"  # defined in a service
    assert classes["InvalidSetting"] == "invalid_setting"
    # A subclass that builds its own message in __init__ is checked too.
    assert any(r.template and "abuse limits" in r.template for r in RAISED)


@pytest.mark.parametrize("raised", ENGLISH, ids=lambda r: r.where)
def test_every_english_template_has_a_russian_text(raised: Raised) -> None:
    assert raised.template is not None
    assert raised.template in RU, f"{raised.where}: no Russian for {raised.template!r}"
    assert _fields(RU[raised.template]) == _fields(raised.template), raised.where


@pytest.mark.parametrize("raised", DYNAMIC, ids=lambda r: r.where)
def test_every_message_built_at_run_time_has_a_fallback_for_its_code(raised: Raised) -> None:
    assert raised.code in RU_BY_CODE, f"{raised.where}: {raised.cls} ({raised.code})"


def test_every_error_code_has_a_fallback() -> None:
    missing = set(_error_classes(MODULES).values()) - set(RU_BY_CODE)
    assert not missing


@pytest.mark.parametrize("english", sorted(RU))
def test_catalog_entries_match_and_are_russian(english: str) -> None:
    assert _fields(RU[english]) == _fields(english)
    assert CYRILLIC.search(RU[english])


# -- formatting --------------------------------------------------------------------


def _insufficient() -> InsufficientPoints:
    return InsufficientPoints(
        "Not enough points: {available} available, {requested} requested.",
        available=3,
        requested=50,
    )


@pytest.mark.parametrize("lang", ["ru", "ru-RU", "RU"])
def test_russian_is_the_template_with_params(lang: str) -> None:
    assert message(_insufficient(), lang) == (
        "Недостаточно баллов: доступно 3, а списать нужно 50."
    )


@pytest.mark.parametrize("lang", ["en", "en-US", "de", ""])
def test_other_languages_get_english(lang: str) -> None:
    assert message(_insufficient(), lang) == "Not enough points: 3 available, 50 requested."


def test_large_numbers_are_grouped_in_russian() -> None:
    error = InvalidInput("At most {max} points can pay for this order.", max=1_500_000)
    assert message(error, "ru") == "Максимум баллов к оплате этого заказа: 1\u00a0500\u00a0000."
    assert message(error, "en") == "At most 1500000 points can pay for this order."


def test_unknown_template_falls_back_to_the_code_then_to_english() -> None:
    assert message(InsufficientPoints("Points ran out."), "ru") == RU_BY_CODE["insufficient_points"]

    class Special(NotFound):
        code = "special_not_in_the_catalog"

    assert message(Special("Gone."), "ru") == RU_BY_CODE["not_found"]

    class Odd(DomainError):
        code = "odd"

    DomainError.code, saved = "not_in_the_catalog", DomainError.code
    try:
        assert message(Odd("Something odd."), "ru") == "Something odd."
    finally:
        DomainError.code = saved


def test_a_missing_param_falls_back_instead_of_failing() -> None:
    error = InvalidInput("A note is at most {limit} characters.", limit=500)
    error.params = {}
    assert message(error, "ru") == RU_BY_CODE["invalid_input"]


def test_messages_already_in_russian_are_kept() -> None:
    error = InvalidInput("«Скидка»: нужно число.", field="discount_pct")
    assert message(error, "ru") == "«Скидка»: нужно число."
