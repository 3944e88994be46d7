"""Every action the code records in the audit trail has a name managers can read."""

from __future__ import annotations

import ast
from pathlib import Path

from webapp.domain.ledger import OperationKind
from webapp.services.reports.audit_trail import ACTIONS

ROOT = Path(__file__).resolve().parents[2]


def recorded_actions() -> set[str]:
    """Literal action names passed to ``audit.record``, ``audit.event`` (an event written
    with an idempotency key) and the ledger's ``write``."""
    found = set()
    for path in [*ROOT.glob("webapp/**/*.py"), *ROOT.glob("staff/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            position = {"audit.record": 2, "audit.event": 1, "write": 3}.get(name)
            if position is None or len(node.args) <= position:
                continue
            argument = node.args[position]
            if isinstance(argument, ast.IfExp):  # "staff.activate" if active else "..."
                candidates = [argument.body, argument.orelse]
            else:
                candidates = [argument]
            found |= {c.value for c in candidates
                      if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    return found


def test_the_scan_finds_the_known_actions() -> None:
    assert {"close", "accrue", "adjust", "staff.invite", "staff.activate", "close_refused"} \
        <= recorded_actions()


def test_every_recorded_action_has_a_russian_name() -> None:
    # release and cancel reach _write as OperationKind values, not literals
    names = recorded_actions() | {OperationKind.RELEASE.value, OperationKind.CANCEL.value}
    assert sorted(names - ACTIONS.keys()) == []
