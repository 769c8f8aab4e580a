"""The workflows' own security: actions pinned to commits, no persisted credentials, minimal
permissions, no code of a fork on the self-hosted runner, and zizmor (a dev dependency) with
no findings, run offline with no configuration or inline ignores that could hide one.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.repo.workflows import CI, PREVIEW, load, steps, triggers, uses

# Every action, pinned to the commit of a release tag (the version in a comment on the same line).
# Commits read from each action's repository with `git rev-parse <tag>^{commit}`: each major's
# moving tag v7 pointed at these releases (each declaring node24).
ACTION_PINS = {
    "actions/checkout": ("3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1"),
    "actions/setup-python": ("5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0"),
    "actions/upload-artifact": ("bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0"),
    "pulumi/actions": ("8e5e406f4007fca908480587cb9893c07090f58d", "v7.0.0"),
}

# What each job may do with GITHUB_TOKEN; the workflows grant nothing at the top level.
JOB_PERMISSIONS = {
    (CI, "test"): {"contents": "read"},
    (PREVIEW, "preview"): {"contents": "read", "pull-requests": "write"},
}

_USES_LINE = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<action>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)@(?P<ref>\S+)(?:\s+#\s*(?P<comment>.*))?$"
)


def _all_uses() -> list[tuple[str, str]]:
    """Every `uses:` line as written (with its comment, which YAML loading drops)."""
    return [
        (path.name, line.strip())
        for path in (CI, PREVIEW)
        for line in path.read_text(encoding="utf-8").splitlines()
        if re.match(r"^\s*(-\s+)?uses:", line)
    ]


def test_every_step_with_an_action_is_checked() -> None:
    with_action = [step for path in (CI, PREVIEW) for step in steps(load(path)) if "uses" in step]
    assert len(_all_uses()) == len(with_action) == 7


@pytest.mark.parametrize(("workflow", "line"), _all_uses())
def test_every_action_is_pinned_to_a_commit_of_its_release(workflow: str, line: str) -> None:
    pinned = _USES_LINE.match(line)
    assert pinned, f"{workflow}: {line} is not owner/name@ref"
    assert pinned["action"] in ACTION_PINS, f"{workflow}: {line} is new here: add it to ACTION_PINS"
    commit, version = ACTION_PINS[pinned["action"]]
    assert pinned["ref"] == commit, f"{workflow}: {line} is not pinned to the commit of {version}"
    assert (pinned["comment"] or "").strip() == version, f"{workflow}: {line} needs the comment # {version}"


@pytest.mark.parametrize("path", [CI, PREVIEW], ids=lambda path: path.name)
def test_checkouts_do_not_persist_credentials(path: Path) -> None:
    checkouts = uses(load(path), "actions/checkout")
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False, step


@pytest.mark.parametrize("path", [CI, PREVIEW], ids=lambda path: path.name)
def test_permissions_are_granted_per_job_and_minimal(path: Path) -> None:
    workflow = load(path)
    assert workflow["permissions"] == {}, "nothing at the top level"
    for name, job in workflow["jobs"].items():
        assert job["permissions"] == JOB_PERMISSIONS[(path, name)], f"{path.name}: job {name}"


def _zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    # Beside the interpreter: the dev dependency installs it into the same environment.
    zizmor = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    assert zizmor, "zizmor is not installed: pip install -e '.[dev]'"
    return subprocess.run(
        # Offline (no GitHub API), with no config file and no inline ignores to hide a finding.
        [zizmor, "--offline", "--no-config", "--no-ignores", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_zizmor_finds_nothing() -> None:
    audited = _zizmor(CI, PREVIEW)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert json.loads(audited.stdout) == []


def test_zizmor_catches_an_unpinned_action_and_persisted_credentials(tmp_path: Path) -> None:
    commit, version = ACTION_PINS["actions/checkout"]
    weakened = tmp_path / "ci.yml"
    text = CI.read_text(encoding="utf-8").replace(f"actions/checkout@{commit} # {version}", "actions/checkout@v7")
    # The first checkout without `persist-credentials: false`.
    weakened.write_text(text.replace("          persist-credentials: false\n", "", 1), encoding="utf-8")
    audited = _zizmor(weakened)
    assert audited.returncode != 0
    assert {finding["ident"] for finding in json.loads(audited.stdout)} == {"unpinned-uses", "artipacked"}


@pytest.mark.parametrize("path", [CI, PREVIEW], ids=lambda path: path.name)
def test_no_trigger_runs_code_of_a_fork_with_this_repository_s_rights(path: Path) -> None:
    assert not {"pull_request_target", "workflow_run"} & set(triggers(load(path)))


def test_preview_runs_in_the_lab_and_never_for_forks() -> None:
    (job,) = load(PREVIEW)["jobs"].values()
    assert job["runs-on"] == ["self-hosted", "homelab"]
    condition = " ".join(job["if"].split())
    assert "github.event_name == 'pull_request'" in condition
    assert "github.event.pull_request.head.repo.full_name == github.repository" in condition
    assert " || " not in condition, "every part of the condition must hold"
