"""Every domain error raised has a code with a message, and passes what the message uses.

The scan reads every module under webapp/, staff/ and wallet/, collects the DomainError
subclasses (those in webapp.domain.errors and, transitively, any class whose base is
one), and checks each ``SomeError("code", **params)`` call: the code is a snake_case
code (not a sentence) with an entry in :data:`~webapp.error_messages.MESSAGES`, and the
params the message uses are all passed. A class with its own ``__init__`` is checked at
its ``super().__init__(...)``; a code taken from a module's table
(``_REFUSALS[why]``) or from a function's parameter is checked for every value the
table or the function's callers give.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from webapp.domain import errors
from webapp.domain.errors import (
    DomainError,
    InsufficientPoints,
    InvalidAmount,
    InvalidInput,
    NotFound,
)
from webapp.domain.money import format_money
from webapp.domain.program import InvalidSetting
from webapp.error_messages import MESSAGES, describe

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("webapp", "staff", "wallet")
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ANY = None  # params passed as **mapping: not known before run time


@dataclass(frozen=True)
class Raised:
    where: str
    cls: str
    code: str | None  # None: not a string (a sentence built at run time, say)
    params: frozenset[str] | None  # None: some passed as **mapping


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


def _class_defs(modules: dict[str, ast.Module]) -> list[tuple[str, ast.ClassDef]]:
    return [(where, n) for where, tree in modules.items() for n in ast.walk(tree)
            if isinstance(n, ast.ClassDef)]


def _error_classes(modules: dict[str, ast.Module]) -> dict[str, str]:
    """Every DomainError subclass by name, with its code (inherited if not its own)."""
    known = {
        name: value.code
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, DomainError)
    }
    grew = True
    while grew:
        grew = False
        for _, node in _class_defs(modules):
            parent = next((p for p in map(_name, node.bases) if p in known), None)
            if node.name not in known and parent is not None:
                known[node.name] = _own_code(node) or known[parent]
                grew = True
    return known


def _shadowed(tree: ast.Module, classes: dict[str, str]) -> set[str]:
    """Names a module defines as classes of its own that are not domain errors
    (wallet.google.client's AlreadyExists is an HTTP answer from Google)."""
    return {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
            and n.name in classes and not any(_name(b) in classes for b in n.bases)}


def _with_init(modules: dict[str, ast.Module]) -> set[str]:
    return {node.name for _, node in _class_defs(modules)
            if any(isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body)}


def _is_super_init(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "__init__"
        and isinstance(func.value, ast.Call)
        and _name(func.value.func) == "super"
    )


def _calls(node: ast.AST, cls: str | None, func: ast.FunctionDef | None
           ) -> list[tuple[ast.Call, str, ast.FunctionDef | None]]:
    """Calls that make an error, with its class and the function they are in."""
    found = []
    for child in ast.iter_child_nodes(node):
        inner_cls = child.name if isinstance(child, ast.ClassDef) else cls
        inner_func = child if isinstance(child, ast.FunctionDef) else func
        if isinstance(child, ast.Call):
            name = cls if _is_super_init(child.func) else _name(child.func)
            if name is not None:
                found.append((child, name, func))
        found.extend(_calls(child, inner_cls, inner_func))
    return found


def _table(tree: ast.Module, name: str) -> list[ast.expr]:
    """The values of a module-level dict literal ``name = {...}``."""
    for statement in tree.body:
        target = statement.target if isinstance(statement, ast.AnnAssign) else (
            statement.targets[0] if isinstance(statement, ast.Assign) else None)
        if _name(target) == name and isinstance(statement.value, ast.Dict):  # type: ignore[arg-type, union-attr]
            return list(statement.value.values)  # type: ignore[union-attr]
    return []


def _passed(tree: ast.Module, func: ast.FunctionDef, param: str) -> list[ast.expr]:
    """What the module's calls of ``func`` pass as its parameter ``param``."""
    position = [a.arg for a in func.args.args].index(param)
    values = []
    for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
        if _name(call.func) == func.name:
            values += [k.value for k in call.keywords if k.arg == param]
            values += call.args[position:position + 1]
    return values


def _codes(arg: ast.expr | None, tree: ast.Module, func: ast.FunctionDef | None,
           own: str) -> list[str | None]:
    """The codes an error's first argument can be (None for anything not a string)."""
    if arg is None:
        return [own]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Name):
        values = _table(tree, arg.value.id)
        return [c for v in values for c in _codes(v, tree, func, own)] or [None]
    if isinstance(arg, ast.Name) and func is not None and arg.id in {a.arg for a in func.args.args}:
        values = _passed(tree, func, arg.id)
        return [c for v in values for c in _codes(v, tree, None, own)] or [None]
    return [None]


def _raised(modules: dict[str, ast.Module]) -> list[Raised]:
    classes = _error_classes(modules)
    custom = _with_init(modules)
    found = []
    for where, tree in modules.items():
        shadowed = _shadowed(tree, classes)
        for call, cls, func in _calls(tree, None, None):
            if cls not in classes or cls in shadowed:
                continue
            if cls in custom and not _is_super_init(call.func):
                continue  # checked at its super().__init__
            params = None if any(k.arg is None for k in call.keywords) else frozenset(
                k.arg for k in call.keywords if k.arg is not None)
            arg = call.args[0] if call.args else None
            for code in _codes(arg, tree, func, classes[cls]):
                found.append(Raised(f"{where}:{call.lineno}", cls, code, params))
    return found


MODULES = _modules()
CLASSES = _error_classes(MODULES)
RAISED = _raised(MODULES)


def test_the_scan_finds_errors_across_the_code() -> None:
    files = {r.where.split(":")[0] for r in RAISED}
    assert len(RAISED) > 200
    assert {"webapp/services/counter/checkins.py", "webapp/domain/ledger.py",
            "staff/backoffice/program_form.py", "wallet/apple/webservice.py"} <= files
    assert CLASSES["CodeAlreadyUsed"] == "checkin_code_used"  # defined in a service
    assert CLASSES["InvalidSetting"] == "invalid_setting"
    codes = {r.code for r in RAISED}
    # Codes in a table, given by a function's callers, or built in __init__ are found.
    assert {"approval_large", "setting_decimals", "too_many_sign_in_codes",
            "sign_in_login_locked", "abuse_blocked"} <= codes
    # Google's own NotFound in wallet.google.client is not a domain error.
    assert not any(r.where.startswith("wallet/google/client.py") for r in RAISED)


@pytest.mark.parametrize("raised", RAISED, ids=lambda r: f"{r.where}:{r.code}")
def test_every_error_is_raised_with_a_code_that_has_a_message(raised: Raised) -> None:
    assert raised.code is not None, f"{raised.where}: {raised.cls} raised without a code"
    assert CODE.fullmatch(raised.code), f"{raised.where}: {raised.code!r} is not a code"
    assert raised.code in MESSAGES, f"{raised.where}: no message for {raised.code!r}"


@pytest.mark.parametrize("raised", [r for r in RAISED if r.code in MESSAGES and r.params],
                         ids=lambda r: f"{r.where}:{r.code}")
def test_every_param_a_message_uses_is_passed(raised: Raised) -> None:
    assert raised.code is not None and raised.params is not None
    used = set(PLACEHOLDER.findall(MESSAGES[raised.code]))
    assert used <= raised.params, f"{raised.where}: {raised.code} needs {used - raised.params}"


def test_errors_raised_without_params_need_none() -> None:
    for raised in RAISED:
        if raised.code in MESSAGES and raised.params == frozenset():
            assert not PLACEHOLDER.search(MESSAGES[raised.code]), raised.where


def test_every_error_class_has_a_category_message() -> None:
    assert not set(CLASSES.values()) - set(MESSAGES)


def test_every_message_is_for_a_code_raised_or_a_category() -> None:
    unused = set(MESSAGES) - {r.code for r in RAISED} - set(CLASSES.values())
    assert not unused


# -- wording -----------------------------------------------------------------------


def _short() -> InsufficientPoints:
    return InsufficientPoints("points_short", available=3, requested=50)


def test_an_error_carries_its_code_category_and_params_only() -> None:
    error = _short()
    assert (error.code, error.category, error.params) == (
        "points_short", "insufficient_points", {"available": 3, "requested": 50})
    assert str(error) == "points_short(available=3, requested=50)"
    plain = InsufficientPoints()
    assert plain.code == plain.category == "insufficient_points"


@pytest.mark.parametrize("lang", ["ru", "ru-RU", "RU", None])
def test_russian_is_the_message_with_params(lang: str | None) -> None:
    assert describe(_short(), lang) == "Недостаточно баллов: доступно 3, а списать нужно 50."


@pytest.mark.parametrize("lang", ["en", "en-US", "de"])
def test_other_languages_get_english(lang: str) -> None:
    assert describe(_short(), lang) == "Not enough points: 3 available, 50 requested."


def test_large_numbers_are_grouped_the_languages_way() -> None:
    error = InvalidAmount("redeem_over_cap", max=1_500_000)
    assert describe(error, "ru") == "Максимум баллов к оплате этого заказа: 1\u202f500\u202f000."
    assert describe(error, "en") == "At most 1,500,000 points can pay for this order."


def test_money_and_percent_params_are_formatted() -> None:
    refund = InvalidAmount("refund_over_left", left_minor=150050)
    assert describe(refund, "ru") == (
        "Возврат больше, чем осталось по заказу: можно вернуть не больше"
        f" {format_money(150050, 'RUB', 'ru')}.")
    assert format_money(150050, "RUB", "en") in describe(refund, "en")
    assert "1,500.50" in describe(refund, "en")
    percent = InvalidSetting("setting_percent_range", field="redeem_cap_bp", high_bp=9999)
    assert describe(percent, "ru") == "redeem_cap_bp: процент от 0 до 99,99 %."
    assert describe(percent, "en") == "redeem_cap_bp: a percentage from 0 to 99.99 %."


def test_a_code_without_a_message_falls_back_to_its_class_then_its_parents() -> None:
    assert describe(InsufficientPoints("points_vanished"), "ru") == MESSAGES["insufficient_points"]

    class Special(NotFound):
        code = "special_not_in_the_catalogue"

    assert describe(Special(), "en") == "Not found."

    class Odd(DomainError):
        code = "odd"

    assert describe(Odd("odder"), "ru") == MESSAGES["domain_error"]


def test_a_missing_param_falls_back_instead_of_failing() -> None:
    error = InvalidInput("note_too_long", limit=500)
    error.params = {}
    assert describe(error, "ru") == MESSAGES["invalid_input"]
    assert describe(error, "en") == "A value is not valid: check what was entered."
