"""One toolchain: uv. `uv sync` (what `pulumi install` runs) installs the tools too, from a lock in sync."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from tests.support import REPO

TOOLS = {"pytest", "ruff", "pyright"}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match[0]).lower()


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _locked_project() -> dict[str, Any]:
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    (project,) = [package for package in lock["package"] if package["name"] == "homelab"]
    return project


def test_tools_are_a_dependency_group_that_uv_sync_installs() -> None:
    pyproject = _pyproject()
    assert "dev" not in pyproject["project"].get("optional-dependencies", {}), "an extra is removed by `uv sync`"
    assert {_name(r) for r in pyproject["dependency-groups"]["dev"]} >= TOOLS
    # uv syncs the `dev` group unless told otherwise.
    assert pyproject.get("tool", {}).get("uv", {}).get("default-groups", ["dev"]) in (["dev"], "all")


def test_the_lock_matches_pyproject() -> None:
    pyproject, locked = _pyproject(), _locked_project()
    metadata = locked["metadata"]
    assert {_name(r) for r in pyproject["project"]["dependencies"]} == {d["name"] for d in metadata["requires-dist"]}
    wanted_dev = {_name(r) for r in pyproject["dependency-groups"]["dev"]}
    assert wanted_dev == {d["name"] for d in metadata["requires-dev"]["dev"]}, "run `uv lock` and commit uv.lock"
    assert {d["name"] for d in locked["dev-dependencies"]["dev"]} >= TOOLS


def test_pulumi_builds_the_same_environment_as_dev() -> None:
    pulumi = (REPO / "Pulumi.yaml").read_text(encoding="utf-8")
    assert re.search(r"^\s+toolchain: uv$", pulumi, re.MULTILINE)
    assert re.search(r"^\s+virtualenv: \.venv$", pulumi, re.MULTILINE)
    dev = (REPO / "dev").read_text(encoding="utf-8")
    assert '"$uv" sync --locked' in dev, "./dev builds .venv with uv from the lock, as `pulumi install` does"
