"""`homelab diff OLD NEW` contract (DESIGN §6): stack names or files, text and JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import REPO, Ran, edited_stack, homelab

CHANGE_KEYS = {"urn", "type", "name", "action", "paths", "reason", "deleteBeforeReplace"}


def run_diff(*args: str | Path) -> Ran:
    return homelab("diff", *args)


def add_key(config: dict[str, Any]) -> None:
    config["homelab:sshPublicKeys"] = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ5YhomelabOwnerKey me@laptop"]


def test_the_same_stack_has_no_changes_and_exits_0() -> None:
    result = run_diff("dev", "dev")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "homelab diff dev -> dev: no changes\n"
    as_json = run_diff("dev", REPO / "Pulumi.dev.yaml", "--format", "json")
    assert as_json.returncode == 0
    assert json.loads(as_json.stdout) == {"hazards": [], "changes": []}


def test_a_destroying_change_exits_3_and_json_lists_each_change(tmp_path: Path) -> None:
    # A new key replaces the client container, and with it the etcd snapshots kept on its disk.
    result = run_diff("dev", edited_stack(tmp_path, add_key), "--format", "json")
    assert result.returncode == 3, result.stderr
    assert {"kind": "destroys", "subject": "etcd backups"} in [
        {key: hazard[key] for key in ("kind", "subject")} for hazard in json.loads(result.stdout)["hazards"]
    ]
    changes = json.loads(result.stdout)["changes"]
    assert changes and all(set(change) == CHANGE_KEYS for change in changes)
    router = next(c for c in changes if c["name"] == "router-container")
    assert router["action"] == "replace"
    assert router["urn"].startswith("urn:pulumi:dev::homelab::")  # planned as the running stack
    assert router["paths"] == ["initialization.userAccount.keys[1]"]
    assert "ForceNew" in router["reason"]


def test_text_puts_hazards_first_then_replacements_with_why(tmp_path: Path) -> None:
    def key_and_replicas(config: dict[str, Any]) -> None:
        add_key(config)
        config["homelab:site"]["replicas"] = 3

    result = run_diff("dev", edited_stack(tmp_path, key_and_replicas))
    assert result.returncode == 3, result.stderr
    lines = result.stdout.splitlines()
    # Both containers, their host keys and first contacts, their firewalls and what configures them;
    # the site, and the commands pinned to the client's new host key.
    assert lines[0].endswith(": 16 to replace, 7 to update")
    assert lines[2] == "hazards (what the running lab loses or needs from you):"
    assert lines[3] == "  ! interrupts: router"
    assert lines.index("  ! interrupts: talos-client") < lines.index("to replace:") < lines.index("to update:")
    router = lines.index(
        "  +- router-container  (proxmoxve:index/containerLegacy:ContainerLegacy)  [delete first, then create]"
    )
    assert lines[router + 1].startswith("      why: initialization.userAccount.keys[1] forces a new resource (")
    assert "      why: replaced with router-container (replaceWith)" in lines
    assert "      changes: spec.replicas" in lines


def test_invalid_config_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    def bad(config: dict[str, Any]) -> None:
        config["homelab:site"]["replicas"] = "three"

    result = run_diff("dev", edited_stack(tmp_path, bad))
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == f"homelab diff: invalid config in {tmp_path / 'Pulumi.edited.yaml'}:"
    assert all(line.startswith("  ") for line in result.stderr.splitlines()[1:])
    assert "Traceback" not in result.stderr
    missing = run_diff("dev", "no-such-stack")
    assert missing.returncode == 2
    assert "Pulumi.no-such-stack.yaml" in missing.stderr


def test_the_readme_example_is_real_output(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    command = "./dev diff /tmp/running.yaml dev\n```\n\n```\n"
    shown = readme[readme.index(command) + len(command) :].split("```\n", 1)[0]
    running = tmp_path / "running.yaml"
    running.write_text((REPO / "Pulumi.dev.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    new = edited_stack(tmp_path, add_key)
    result = run_diff(running, new)
    assert result.returncode == 3, result.stderr
    assert result.stdout.replace(f"{running} -> {new}", "/tmp/running.yaml -> dev") == shown
