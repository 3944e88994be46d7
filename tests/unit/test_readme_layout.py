"""README's Layout lists every package of the tree, one line each, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _listed() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Layout\n", 1)[1].split("```\n", 2)[1]
    return [re.split(r"\s{2,}", line.strip())[0] for line in block.splitlines() if line.strip()]


def _packages() -> set[str]:
    found = set()
    for top in ("webapp", "staff", "wallet", "tests"):
        for init in (ROOT / top).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                found.add(init.parent.relative_to(ROOT).as_posix() + "/")
    return found


def test_every_package_has_its_line_and_every_line_exists() -> None:
    listed = _listed()
    paths = {p for entry in listed for p in entry.split(", ")}
    missing = _packages() - paths
    assert not missing, f"packages without a line in README's Layout: {sorted(missing)}"
    gone = [p for p in paths if not (ROOT / p).exists()]
    assert not gone, f"README's Layout lists what is not in the tree: {gone}"
    assert len(listed) == len(set(listed)), "a package listed twice"
