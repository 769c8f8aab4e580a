"""The rollout script, run for real with bash against a fake talosctl and kubectl (tests/talos/fake_cluster.py)."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from components.talos.upgrade_script import Patience, RolloutTarget, rollout_script
from tests.network.tools import require_tools
from tests.support import COMMAND, named, stack_config, stack_plan
from tests.talos.fake_cluster import FAKE, install_tools, node_state, read_state, write_state

OLD_SCHEMATIC = "a" * 64
NEW_SCHEMATIC = "b" * 64
CPS = ["192.168.1.201", "192.168.1.211", "192.168.1.221"]
WORKERS = ["192.168.1.202", "192.168.1.203"]
TARGET = RolloutTarget(
    talos_version="v1.13.10",
    schematic_id=OLD_SCHEMATIC,
    installer_image=f"factory.talos.dev/nocloud-installer/{OLD_SCHEMATIC}:v1.13.10",
    kubernetes_version="1.36.3",
    control_planes=CPS,
    workers=WORKERS,
)
# A silent node is asked three times, without pausing.
PATIENCE = Patience(attempts=3, pause_seconds=0)


def script(target: RolloutTarget) -> str:
    return rollout_script(target, PATIENCE)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    state: dict[str, Any]

    @property
    def calls(self) -> list[str]:
        return self.state["calls"]

    def upgrades(self) -> list[str]:
        """The nodes `talosctl upgrade` ran on, in order."""
        return [call.split()[2] for call in self.calls if call.split()[3:4] == ["upgrade"]]

    def steps(self) -> list[str]:
        """Health checks and upgrades in order, as `health`, `upgrade <node>` and `upgrade-k8s`."""
        names = {"health": "health", "upgrade": "upgrade {node}", "upgrade-k8s": "upgrade-k8s"}
        return [
            names[words[3]].format(node=words[2])
            for words in (call.split() for call in self.calls)
            if words[0] == "talosctl" and words[3] in names
        ]


def cluster(
    tmp_path: Path,
    *,
    talos: str = "v1.13.9",
    kubernetes: str = "v1.36.3",
    faults: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """A fake cluster: every node on `talos` with the old schematic, Kubernetes on `kubernetes`."""
    nodes = {
        address: node_state(role, talos, OLD_SCHEMATIC, kubelet=kubernetes, **(faults or {}).get(address, {}))
        for role, addresses in (("controlplane", CPS), ("worker", WORKERS))
        for address in addresses
    }
    folder = tmp_path / "cluster"
    write_state(folder, {"nodes": nodes, "kubernetes": {"controlPlane": kubernetes, "proxy": kubernetes}})
    return folder


def edit(folder: Path, change: dict[str, Any]) -> None:
    write_state(folder, read_state(folder) | change)


def edit_nodes(folder: Path, changes: dict[str, dict[str, Any]]) -> None:
    state = read_state(folder)
    for address, change in changes.items():
        state["nodes"][address].update(change)
    write_state(folder, state)


def run(tmp_path: Path, folder: Path, script: str) -> Run:
    """Runs the script once; the state's call log then holds this run's calls only."""
    bash = require_tools("bash")["bash"]
    edit(folder, {})
    install_tools(tmp_path / "bin")
    (tmp_path / "rollout.sh").write_text(script, encoding="utf-8")
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "FAKE_CLUSTER": str(folder)}
    done = subprocess.run(
        [bash, str(tmp_path / "rollout.sh")], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    assert "unexpected arguments" not in done.stderr, done.stderr
    return Run(done.returncode, done.stdout, done.stderr, read_state(folder))


def test_a_patch_bump_upgrades_control_planes_first_one_at_a_time_with_health_between(tmp_path: Path) -> None:
    result = run(tmp_path, cluster(tmp_path), script(TARGET))
    assert result.returncode == 0, result.stderr
    nodes = [*CPS, *WORKERS]
    assert result.steps() == ["health"] + [step for node in nodes for step in (f"upgrade {node}", "health")]
    assert {node["version"] for node in result.state["nodes"].values()} == {"v1.13.10"}
    assert "upgrade: done" in result.stdout


def test_a_fresh_lab_or_a_rerun_changes_nothing(tmp_path: Path) -> None:
    state = cluster(tmp_path, talos="v1.13.10")
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 0, result.stderr
    assert result.steps() == []  # not even a health check: nothing to change
    assert result.stdout.count("skipped") == len(CPS) + len(WORKERS) + 1  # every node, and Kubernetes
    again = run(tmp_path, state, script(TARGET))
    assert (again.returncode, again.steps()) == (0, [])


def test_nodes_already_on_target_are_skipped(tmp_path: Path) -> None:
    state = cluster(tmp_path)
    edit_nodes(state, {CPS[1]: {"version": "v1.13.10"}, WORKERS[0]: {"version": "v1.13.10"}})
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 0, result.stderr
    assert result.upgrades() == [CPS[0], CPS[2], WORKERS[1]]


def test_a_new_schematic_on_the_same_version_upgrades_every_node(tmp_path: Path) -> None:
    target = replace(
        TARGET,
        talos_version="v1.13.9",
        schematic_id=NEW_SCHEMATIC,
        installer_image=f"factory.talos.dev/nocloud-installer/{NEW_SCHEMATIC}:v1.13.9",
    )
    result = run(tmp_path, cluster(tmp_path), script(target))
    assert result.returncode == 0, result.stderr
    assert result.upgrades() == [*CPS, *WORKERS]
    assert {node["schematic"] for node in result.state["nodes"].values()} == {NEW_SCHEMATIC}


def test_the_first_failing_node_stops_the_run_and_the_next_run_resumes_there(tmp_path: Path) -> None:
    state = cluster(tmp_path, faults={WORKERS[0]: {"fail_upgrade": True}})
    target = replace(TARGET, kubernetes_version="1.36.4")
    failed = run(tmp_path, state, script(target))
    assert failed.returncode == 1
    assert f"STOPPED: talosctl upgrade failed on worker {WORKERS[0]}" in failed.stderr
    assert failed.upgrades() == [*CPS, WORKERS[0]]  # the second worker is not touched
    assert not [call for call in failed.calls if "upgrade-k8s" in call]  # nor Kubernetes
    edit_nodes(state, {WORKERS[0]: {"failUpgrade": False}})
    resumed = run(tmp_path, state, script(target))
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.upgrades() == WORKERS
    assert resumed.steps()[-1] == "upgrade-k8s"


def test_an_upgrade_that_never_reboots_into_the_target_stops_the_run(tmp_path: Path) -> None:
    state = cluster(tmp_path, faults={CPS[0]: {"stuck": True}})
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 1
    assert f"control-plane {CPS[0]} runs v1.13.9 after its upgrade, not v1.13.10" in result.stderr
    assert result.upgrades() == [CPS[0]]


def test_an_unhealthy_cluster_is_not_touched(tmp_path: Path) -> None:
    state = cluster(tmp_path)
    edit(state, {"unhealthy": WORKERS[1]})
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 1
    assert "the cluster is not healthy: nothing was changed in this run" in result.stderr
    assert result.upgrades() == []
    # With nothing to change, the run does not depend on the cluster's health (a worker being removed).
    edit_nodes(state, {node: {"version": "v1.13.10"} for node in [*CPS, *WORKERS]})
    assert run(tmp_path, state, script(TARGET)).returncode == 0


def test_a_node_that_answers_late_is_waited_for(tmp_path: Path) -> None:
    """A worker added in the same `pulumi up` is still installing when the rollout starts."""
    state = cluster(tmp_path, talos="v1.13.10", faults={WORKERS[1]: {"silent_calls": 2}})
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 0, result.stderr
    assert f"waiting for {WORKERS[1]} to answer" in result.stderr
    assert result.steps() == []


def test_a_node_that_never_answers_stops_the_run_naming_it(tmp_path: Path) -> None:
    state = cluster(tmp_path, faults={WORKERS[1]: {"silent_calls": 99}})
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 1
    assert f"STOPPED: worker {WORKERS[1]} does not answer: cannot read its Talos version" in result.stderr
    assert f"dial tcp {WORKERS[1]}:50000" in result.stderr  # talosctl's own error
    assert result.upgrades() == [*CPS, WORKERS[0]]


def test_a_talos_downgrade_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, cluster(tmp_path, talos="v1.13.11"), script(TARGET))
    assert result.returncode == 1
    assert f"control-plane {CPS[0]} runs v1.13.11, newer than v1.13.10: downgrades are not done here" in result.stderr
    assert result.upgrades() == []


def test_kubernetes_is_upgraded_once_after_every_node_runs_the_target_talos(tmp_path: Path) -> None:
    result = run(tmp_path, cluster(tmp_path), script(replace(TARGET, kubernetes_version="1.37.0")))
    assert result.returncode == 0, result.stderr
    steps = result.steps()
    assert steps.count("upgrade-k8s") == 1
    assert steps.index("upgrade-k8s") > max(i for i, step in enumerate(steps) if step.startswith("upgrade "))
    assert f"talosctl --nodes {CPS[0]} upgrade-k8s --to 1.37.0 --with-docs=false --with-examples=false" in result.calls
    assert "Kubernetes: v1.36.3 -> 1.37.0" in result.stdout


def test_kubernetes_alone_upgrades_no_node(tmp_path: Path) -> None:
    result = run(tmp_path, cluster(tmp_path, talos="v1.13.10"), script(replace(TARGET, kubernetes_version="1.36.4")))
    assert result.returncode == 0, result.stderr
    assert result.steps() == ["health", "upgrade-k8s"]


def test_kubernetes_half_done_by_the_new_machine_configs_is_finished(tmp_path: Path) -> None:
    """The applied configs already carry the new kubelet and control-plane images; kube-proxy waits for upgrade-k8s."""
    state = cluster(tmp_path, talos="v1.13.10", kubernetes="v1.36.4")
    edit(state, {"kubernetes": {"controlPlane": "v1.36.4", "proxy": "v1.36.3"}})
    result = run(tmp_path, state, script(replace(TARGET, kubernetes_version="1.36.4")))
    assert result.returncode == 0, result.stderr
    assert result.steps() == ["health", "upgrade-k8s"]
    assert result.state["kubernetes"]["proxy"] == "v1.36.4"


@pytest.mark.parametrize(
    ("running", "wanted", "message"),
    [
        ("v1.35.2", "1.37.0", "Kubernetes runs v1.35.2: upgrades go one minor at a time"),
        ("v1.36.3", "1.36.2", "Kubernetes runs v1.36.3, newer than 1.36.2: downgrades are not supported"),
    ],
)
def test_kubernetes_skipping_a_minor_or_going_back_is_refused(
    tmp_path: Path, running: str, wanted: str, message: str
) -> None:
    state = cluster(tmp_path, talos="v1.13.10", kubernetes=running)
    result = run(tmp_path, state, script(replace(TARGET, kubernetes_version=wanted)))
    assert result.returncode == 1
    assert message in result.stderr
    assert "upgrade-k8s" not in result.steps()


def test_a_failed_kubernetes_upgrade_stops_and_is_retried_by_the_next_run(tmp_path: Path) -> None:
    state = cluster(tmp_path, talos="v1.13.10")
    edit(state, {"failKubernetes": True})
    target = replace(TARGET, kubernetes_version="1.36.4")
    assert "upgrade-k8s to 1.36.4 failed" in run(tmp_path, state, script(target)).stderr
    edit(state, {"failKubernetes": False})
    assert run(tmp_path, state, script(target)).steps() == ["health", "upgrade-k8s"]


def test_the_registered_script_is_the_tested_one(tmp_path: Path) -> None:
    """The dev stack's own rollout command, run on a cluster one patch behind."""
    config, plan = stack_config("dev"), stack_plan("dev")
    rollout = named(plan, "cluster-upgrade-rollout")
    assert rollout.type == COMMAND
    cps = [str(node.address) for node in config.cluster.control_planes]
    workers = [str(node.address) for node in config.cluster.workers]
    nodes = {
        address: node_state(role, "v1.13.8", OLD_SCHEMATIC, kubelet="v1.36.3")
        for role, addresses in (("controlplane", cps), ("worker", workers))
        for address in addresses
    }
    kubernetes = f"v{config.cluster.kubernetes_version}"
    state = tmp_path / "cluster"
    write_state(state, {"nodes": nodes, "kubernetes": {"controlPlane": kubernetes, "proxy": kubernetes}})
    result = run(tmp_path, state, rollout.inputs["stdin"])
    assert result.returncode == 0, result.stderr
    assert result.upgrades() == [*cps, *workers]
    assert {node["version"] for node in result.state["nodes"].values()} == {config.cluster.talos_version}


def test_the_script_and_the_fake_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = require_tools("shellcheck")["shellcheck"]
    scripts = [tmp_path / "rollout.sh", tmp_path / "single.sh", FAKE]
    scripts[0].write_text(script(TARGET), encoding="utf-8")
    scripts[1].write_text(script(replace(TARGET, control_planes=CPS[:1], workers=[])), encoding="utf-8")
    done = subprocess.run(
        [shellcheck, "--shell=bash", *map(str, scripts)], capture_output=True, text=True, check=False, timeout=30
    )
    assert done.returncode == 0, done.stdout


def test_a_kubernetes_api_that_answers_late_is_waited_for(tmp_path: Path) -> None:
    state = cluster(tmp_path, talos="v1.13.10")
    edit(state, {"apiSilentCalls": 2})
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 0, result.stderr
    assert "waiting for the Kubernetes API to answer kubectl get nodes" in result.stderr
    assert "Kubernetes already runs 1.36.3 everywhere: skipped" in result.stdout


def test_a_kubernetes_api_that_never_answers_stops_the_run_saying_what_it_waited_for(tmp_path: Path) -> None:
    state = cluster(tmp_path, talos="v1.13.10")
    edit(state, {"apiSilentCalls": 99})
    result = run(tmp_path, state, script(replace(TARGET, kubernetes_version="1.36.4")))
    assert result.returncode == 1
    assert "192.168.1.201:6443 was refused" in result.stderr  # kubectl's own error
    assert "gave up after 0 s (3 tries) waiting for the Kubernetes API to answer kubectl get nodes" in result.stderr
    assert "upgrade-k8s" not in result.steps()
    assert all(call.split()[1].startswith("--request-timeout=") for call in result.calls if call.startswith("kubectl"))


def test_a_node_that_cannot_list_its_extensions_is_not_upgraded_blindly(tmp_path: Path) -> None:
    """A node that answers its version but not its extensions stops the run: not taken for another schematic."""
    state = cluster(tmp_path, talos="v1.13.10")
    (state / "node" / CPS[1] / "extensions-silent").write_text("", encoding="utf-8")
    result = run(tmp_path, state, script(TARGET))
    assert result.returncode == 1
    assert f"waiting for {CPS[1]} to list its extensions" in result.stderr
    assert f"STOPPED: {CPS[1]} does not answer: cannot read its image schematic" in result.stderr
    assert result.upgrades() == []


def test_a_kubernetes_api_that_hangs_is_given_up_within_the_bound(tmp_path: Path) -> None:
    state = cluster(tmp_path, talos="v1.13.10")
    (state / "api-hangs").touch()
    started = time.monotonic()
    result = run(tmp_path, state, rollout_script(TARGET, Patience(attempts=2, pause_seconds=0, call_seconds=1)))
    assert time.monotonic() - started < 2 * 1 + 5
    assert result.returncode == 1
    assert "waiting for the Kubernetes API to answer kubectl get nodes" in result.stderr
