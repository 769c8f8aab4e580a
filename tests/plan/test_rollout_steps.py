"""`homelab diff` spells out the upgrade steps the rollout command will take on a version bump."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cli.main import main
from config.guests import Role, talos_nodes
from config.loading import load_stack_file
from diff.rollout_steps import planned_rollout_steps, rollout_targets
from plan.run import run_plan
from tests.support import edited_stack, named, stack_config, stack_plan


def _bump(key: str, value: str) -> Any:
    def edit(config: dict[str, Any]) -> None:
        config["homelab:cluster"][key] = value

    return edit


def _steps(new_stack: Path) -> list[str]:
    return planned_rollout_steps(stack_plan("dev"), run_plan(load_stack_file(new_stack), "dev"))


def _addresses_in_rollout_order() -> list[str]:
    nodes = talos_nodes(stack_config("dev"))
    ordered = [n for n in nodes if n.role is Role.CONTROL_PLANE] + [n for n in nodes if n.role is Role.WORKER]
    return [str(node.address) for node in ordered]


def test_the_rollout_script_header_carries_the_targets() -> None:
    targets = rollout_targets(named(stack_plan("dev"), "cluster-upgrade-rollout").inputs["stdin"])
    assert targets["TALOS_VERSION"] == ["v1.13.9"]
    assert targets["KUBERNETES_VERSION"] == ["1.36.3"]
    assert targets["CONTROL_PLANES"] + targets["WORKERS"] == _addresses_in_rollout_order()


def test_a_talos_bump_upgrades_every_node_in_turn_control_planes_first(tmp_path: Path) -> None:
    steps = _steps(edited_stack(tmp_path, _bump("talosVersion", "v1.13.10")))
    expected = [
        f"talosctl upgrade {address} to Talos v1.13.10, then health check" for address in _addresses_in_rollout_order()
    ]
    assert steps == ["health check of the cluster", *expected]


def test_a_kubernetes_bump_upgrades_kubernetes_once(tmp_path: Path) -> None:
    steps = _steps(edited_stack(tmp_path, _bump("kubernetesVersion", "1.36.4")))
    assert steps == [
        "health check of the cluster",
        "talosctl upgrade-k8s --to 1.36.4 (only if a component is not on it yet)",
    ]


def test_both_bumps_upgrade_talos_first_then_kubernetes(tmp_path: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        _bump("talosVersion", "v1.13.10")(config)
        _bump("kubernetesVersion", "1.36.4")(config)

    steps = _steps(edited_stack(tmp_path, edit))
    assert steps[0] == "health check of the cluster"
    assert steps[-1].startswith("talosctl upgrade-k8s --to 1.36.4")
    assert len(steps) == 2 + len(_addresses_in_rollout_order())


def test_a_new_worker_changes_the_script_but_upgrades_nothing(tmp_path: Path) -> None:
    def add_worker(config: dict[str, Any]) -> None:
        config["homelab:cluster"]["workers"].append({"name": "worker-3", "address": "192.168.1.205", "vmId": 205})

    steps = _steps(edited_stack(tmp_path, add_worker))
    assert steps == ["every node checked: already on Talos v1.13.9 and Kubernetes 1.36.3, nothing to upgrade"]


def test_unchanged_stack_has_no_steps() -> None:
    assert planned_rollout_steps(stack_plan("dev"), stack_plan("dev")) == []


def test_homelab_diff_prints_the_steps(tmp_path: Path, capsys: Any) -> None:
    new = edited_stack(tmp_path, _bump("talosVersion", "v1.13.10"))
    assert main(["diff", "dev", str(new)]) == 1
    output = capsys.readouterr().out
    section = output[output.index("upgrade steps the rollout will run") :].splitlines()
    assert section[1] == "  1. health check of the cluster"
    assert section[2].startswith("  2. talosctl upgrade ")
    assert "to replace" not in output
