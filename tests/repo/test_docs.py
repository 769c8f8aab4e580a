"""The README stays a user's page, and the docs index lists every page under docs/."""

from __future__ import annotations

import re

from tests.support import REPO

MAX_README_LINES = 450
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_short_enough_to_read() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines: move what is for contributors under docs/"


def test_the_docs_index_lists_every_page() -> None:
    index = REPO / "docs" / "README.md"
    linked = {(index.parent / target).resolve() for target in LINK.findall(index.read_text(encoding="utf-8"))}
    pages = {page.resolve() for page in (REPO / "docs").glob("*.md") if page != index}
    assert pages <= linked, f"docs/README.md does not list {sorted(p.name for p in pages - linked)}"
    assert (REPO / "CHANGELOG.md").resolve() in linked
