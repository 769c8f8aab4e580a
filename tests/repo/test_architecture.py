"""docs/architecture.md's tree names the code as it is: every package and layer, nothing that is gone."""

from __future__ import annotations

import re

from tests.support import REPO

TREE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8").split("```")[1]


def _entries() -> list[str]:
    """The tree's names: top level, and components/'s entries by their indentation."""
    names: list[str] = []
    for line in TREE.splitlines():
        match = re.match(r"^(  )?([\w./]+/?)(?: / \S+)?\s{2,}", line)
        if match:
            names.append(("components/" if match[1] else "") + match[2])
    return names


def test_every_package_and_layer_is_in_the_tree() -> None:
    entries = set(_entries())
    packages = {f"{p.parent.name}/" for p in REPO.glob("*/__init__.py") if p.parent.name != "tests"}
    layers = {f"components/{p.parent.name}/" for p in (REPO / "components").glob("*/__init__.py")}
    modules = {f"components/{p.name}" for p in (REPO / "components").glob("*.py") if p.name != "__init__.py"}
    assert packages | layers | modules <= entries


def test_every_name_in_the_tree_exists() -> None:
    missing = [name for name in _entries() if not (REPO / name.rstrip("/")).exists()]
    assert missing == []
