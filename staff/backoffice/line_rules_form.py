"""The program form's rules for order lines by kind: what works, parts and other items
earn, and whether the card's or tier's discount applies to them.

Inputs per kind: ``lines-<kind>-accrual_pct`` (blank: the program's or tier's rate)
and ``lines-<kind>-no_discount`` (ticked: the discount stays off these lines). Rules
for single categories are kept as they are (the form has no inputs for them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from webapp.domain.program import LINE_KINDS, LineRule, ProgramSettings

Percent = Callable[[Mapping[str, Any], str], int | None]


def parse(form: Mapping[str, Any], kept: list[dict[str, Any]],
          percent: Percent) -> list[dict[str, Any]]:
    """The line rules a submitted form asks for: one per kind it sets, then ``kept``
    (the category rules already in the settings)."""
    rules = []
    for kind in LINE_KINDS:
        rate = percent(form, f"lines-{kind}-accrual_pct")
        off = bool(form.get(f"lines-{kind}-no_discount"))
        if rate is not None or off:
            rules.append({"kind": kind, "category": None, "accrual_bp": rate,
                          "discounted": not off})
    return rules + [rule for rule in kept if rule.get("category") is not None]


def values(settings: ProgramSettings, pct_text: Callable[[int], str]) -> dict[str, Any]:
    """The inputs' values for these settings, by kind."""
    by_kind: dict[str | None, LineRule] = {r.kind: r for r in settings.line_rules
                                           if r.category is None}
    shown = {}
    for kind in LINE_KINDS:
        rule = by_kind.get(kind)
        shown[kind] = {
            "accrual_pct": "" if rule is None or rule.accrual_bp is None
            else pct_text(rule.accrual_bp),
            "no_discount": rule is not None and not rule.discounted}
    return shown


def echo(form: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs as submitted, to show them again next to an error."""
    return {kind: {"accrual_pct": str(form.get(f"lines-{kind}-accrual_pct") or "").strip(),
                   "no_discount": bool(form.get(f"lines-{kind}-no_discount"))}
            for kind in LINE_KINDS}
