"""Every test asserts something: a test that only runs code proves nothing beyond "it did
not raise", and reads as if it checked more.

The rule, checked on the source (AST) of every ``test_*`` function in tests/**/test_*.py,
counting what is nested inside it (helpers defined in the test, lambdas): the function
must contain at least one of

- an ``assert`` statement;
- a call to ``pytest.raises``, ``pytest.warns`` or ``pytest.fail`` (attribute or bare name);
- a call to ``expect(...)`` (Playwright's assertion), or to a helper whose name starts
  with ``assert_`` or ``expect_`` (name a shared asserting helper so, and it counts).

A test whose point is "this does not raise" says so with an assert on what it returns.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
ASSERTING_CALLS = {"raises", "warns", "fail", "expect"}
ASSERTING_PREFIXES = ("assert_", "expect_")


def _called_name(call: ast.Call) -> str:
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def asserts(function: ast.AST) -> bool:
    """Whether the function's body holds an assertion, by the rule above."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = _called_name(node)
            if name in ASSERTING_CALLS or name.startswith(ASSERTING_PREFIXES):
                return True
    return False


def collected_tests(source: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """The test functions of a module (at its top level or in its classes)."""
    return [node for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")]


def without_assertion(root: Path) -> list[str]:
    """``path:line name`` of every test under ``root`` that asserts nothing."""
    found = []
    for path in sorted(root.rglob("test_*.py")):
        for test in collected_tests(path.read_text(encoding="utf-8")):
            if not asserts(test):
                found.append(f"{path.relative_to(root)}:{test.lineno} {test.name}")
    return found


def test_every_test_in_the_suite_asserts_something() -> None:
    assert without_assertion(TESTS) == []


def test_the_rule_tells_asserting_tests_from_the_rest() -> None:
    source = '''
import pytest
from playwright.sync_api import expect

def test_assert(): assert 1
def test_raises():
    with pytest.raises(ValueError): int("x")
def test_fail(): pytest.fail("no")
def test_playwright(page): expect(page).to_have_url("/")
def test_shared_helper(page): assert_signed_in(page)
def test_nested():
    def check(): assert True
    check()
class TestGroup:
    def test_method(self): assert self
def test_runs_only(): int("1")
def test_calls_a_checker(): check_it()
def helper_not_a_test(): pass
'''
    verdicts = {test.name: asserts(test) for test in collected_tests(source)}
    assert verdicts == {"test_assert": True, "test_raises": True, "test_fail": True,
                        "test_playwright": True, "test_shared_helper": True,
                        "test_nested": True, "test_method": True,
                        "test_runs_only": False, "test_calls_a_checker": False}


def test_the_scan_sees_the_suite() -> None:
    # Guards against a rule that passes because it looks nowhere.
    assert sum(len(collected_tests(p.read_text(encoding="utf-8")))
               for p in TESTS.rglob("test_*.py")) > 500
