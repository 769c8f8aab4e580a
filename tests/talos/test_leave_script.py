"""The leave script, run for real with bash: talosctl against a real 3-member etcd, kubectl against a stand-in.

etcd is Debian's etcd-server on 127.0.0.1 (tests/talos/etcd_cluster.py); the stand-ins
(tests/talos/standin_talosctl.py, standin_kubectl.py) misbehave on demand: late answers,
refusals, a node that is gone, an API that hangs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from components.talos.leave_script import LeaveSettings, LeaveTarget, Member, leave_script
from tests.network.tools import require_tools
from tests.talos.etcd_cluster import EtcdCluster, etcd_cluster

HERE = Path(__file__).parent
CPS = {"192.168.1.201": "cp-1", "192.168.1.211": "cp-2", "192.168.1.221": "cp-3"}
WORKERS = {"192.168.1.202": "worker-1", "192.168.1.203": "worker-2"}
BY_NAME = {name: address for address, name in {**CPS, **WORKERS}.items()}


def target(name: str) -> LeaveTarget:
    role = Member.CONTROL_PLANE if BY_NAME[name] in CPS else Member.WORKER
    return LeaveTarget(name=name, address=BY_NAME[name], role=role, control_planes=list(CPS))


class Lab:
    """The client's view: a stand-in directory, the tools on PATH, the lock and the destroy marker."""

    def __init__(self, root: Path, members_file: Path | None = None) -> None:
        self.root = root
        self.state = root / "standin"
        (self.state / "kube").mkdir(parents=True)
        for fault in ("gone", "hang", "late"):
            (self.state / fault).mkdir()
        members = members_file.read_text(encoding="utf-8") if members_file else "{}"
        (self.state / "members.json").write_text(members, encoding="utf-8")
        (self.state / "kube" / "nodes.json").write_text(json.dumps(BY_NAME), encoding="utf-8")
        (self.state / "calls").touch()
        self.bin = root / "bin"
        self.bin.mkdir()
        for tool in ("talosctl", "kubectl"):
            wrapper = self.bin / tool
            standin = HERE / f"standin_{tool}.py"
            wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} {standin} "$@"\n', encoding="utf-8")
            wrapper.chmod(0o755)
        self.settings = LeaveSettings(
            lock_path=str(root / "membership.lock"),
            destroying_path=str(root / "lab-destroyed"),
            attempts=2,
            pause_seconds=0,
            call_seconds=5,
            drain_seconds=2,
            lock_seconds=120,
        )

    def fault(self, kind: str, address: str, value: str = "") -> None:
        (self.state / kind / address).write_text(value, encoding="utf-8")

    def kube_fault(self, kind: str, value: str) -> None:
        (self.state / "kube" / kind).write_text(value, encoding="utf-8")

    def start(self, name: str, settings: LeaveSettings | None = None) -> subprocess.Popen[str]:
        bash = require_tools("bash")["bash"]
        script = self.root / f"leave-{name}.sh"
        script.write_text(leave_script(target(name), settings or self.settings), encoding="utf-8")
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "STANDIN_DIR": str(self.state), "STANDIN_CALLER": name}
        return subprocess.Popen([bash, str(script)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def run(self, name: str, settings: LeaveSettings | None = None) -> subprocess.CompletedProcess[str]:
        process = self.start(name, settings)
        stdout, stderr = process.communicate(timeout=120)
        assert "unexpected arguments" not in stderr and "unbounded call" not in stderr, stderr
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def calls(self, caller: str | None = None) -> list[str]:
        lines = (self.state / "calls").read_text(encoding="utf-8").splitlines()
        return [line.split(" ", 1)[1] for line in lines if caller is None or line.split(" ", 1)[0] == caller]

    def kube_nodes(self) -> set[str]:
        return set(json.loads((self.state / "kube" / "nodes.json").read_text(encoding="utf-8")))


@pytest.fixture
def etcd(tmp_path: Path) -> Iterator[EtcdCluster]:
    directory = tmp_path / "etcd"
    directory.mkdir()
    with etcd_cluster(directory, CPS) as cluster:
        yield cluster


@pytest.fixture
def lab(tmp_path: Path, etcd: EtcdCluster) -> Lab:
    return Lab(tmp_path, etcd.map_file)


def test_a_control_plane_is_drained_then_leaves_etcd(lab: Lab, etcd: EtcdCluster) -> None:
    assert etcd.member_names() == ["cp-1", "cp-2", "cp-3"]
    done = lab.run("cp-2")
    assert done.returncode == 0, done.stderr
    assert etcd.member_names(via="192.168.1.201") == ["cp-1", "cp-3"]
    assert lab.kube_nodes() == set(BY_NAME) - {"cp-2"}
    steps = [call.split()[2] for call in lab.calls("cp-2") if call.startswith("kubectl")]
    assert steps == ["get", "cordon", "drain", "delete"]
    assert "talosctl --nodes 192.168.1.211 etcd leave" in lab.calls("cp-2")
    assert "leave cp-2: 192.168.1.211 left etcd" in done.stdout
    # The kubectl steps come before etcd: the node's API server and kubelet still run while it drains.
    calls = lab.calls("cp-2")
    assert calls.index("talosctl --nodes 192.168.1.211 etcd leave") > max(
        i for i, call in enumerate(calls) if call.startswith("kubectl")
    )


def test_two_leaves_in_parallel_take_turns_and_keep_quorum(lab: Lab, etcd: EtcdCluster) -> None:
    first, second = lab.start("cp-2"), lab.start("cp-3")
    outputs = [process.communicate(timeout=120) for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert etcd.member_names(via="192.168.1.201") == ["cp-1"]
    assert etcd.healthy("192.168.1.201")
    # One membership change at a time: every call of one leave comes before every call of the other.
    callers = [line.split(" ", 1)[0] for line in (lab.state / "calls").read_text(encoding="utf-8").splitlines()]
    turns = [caller for i, caller in enumerate(callers) if i == 0 or callers[i - 1] != caller]
    assert sorted(turns) == ["cp-2", "cp-3"], turns


def test_the_last_member_is_never_removed(lab: Lab, etcd: EtcdCluster) -> None:
    for name in ("cp-3", "cp-2"):
        assert lab.run(name).returncode == 0
    done = lab.run("cp-1")
    assert done.returncode == 0, done.stderr
    assert "192.168.1.201 is the last etcd member: not removed, the cluster goes with it" in done.stdout
    assert etcd.member_names(via="192.168.1.201") == ["cp-1"]
    assert not [call for call in lab.calls("cp-1") if "leave" in call or "remove-member" in call]


def test_a_node_that_is_gone_is_removed_through_another_member(lab: Lab, etcd: EtcdCluster) -> None:
    etcd.members["192.168.1.221"].stop()
    lab.fault("gone", "192.168.1.221")
    lab.kube_fault("drain", "fail")  # its pods cannot be evicted from a dead kubelet
    done = lab.run("cp-3")
    assert done.returncode == 0, done.stderr
    assert etcd.member_names(via="192.168.1.201") == ["cp-1", "cp-2"]
    assert "192.168.1.221 does not answer: its member" in done.stdout
    assert "removed through 192.168.1.201" in done.stdout
    assert "cp-3" not in lab.kube_nodes()


def test_a_removal_that_would_lose_quorum_is_refused_and_keeps_the_vm(lab: Lab, etcd: EtcdCluster) -> None:
    etcd.members["192.168.1.221"].stop()
    lab.fault("gone", "192.168.1.221")
    done = lab.run("cp-2")
    assert done.returncode == 1
    assert (
        "removing 192.168.1.211 would leave 1 of 2 etcd members answering, below the quorum of 2"
        " (not answering: 192.168.1.221)" in done.stderr
    )
    assert "the VM is kept" in done.stderr
    assert etcd.member_names(via="192.168.1.201") == ["cp-1", "cp-2", "cp-3"]


def test_control_planes_that_answer_late_are_waited_for(lab: Lab, etcd: EtcdCluster) -> None:
    for address in CPS:
        lab.fault("late", address, "1")
    done = lab.run("cp-2")
    assert done.returncode == 0, done.stderr
    assert etcd.member_names(via="192.168.1.201") == ["cp-1", "cp-3"]


def test_the_whole_lab_being_destroyed_leaves_nothing(lab: Lab, etcd: EtcdCluster) -> None:
    Path(lab.settings.destroying_path).touch()
    done = lab.run("cp-2")
    assert done.returncode == 0, done.stderr
    assert "the whole lab is being destroyed: nothing to leave" in done.stdout
    assert lab.calls() == []
    assert etcd.member_names() == ["cp-1", "cp-2", "cp-3"]


def test_no_control_plane_answering_is_reported_and_left_within_the_bound(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    for address in CPS:
        lab.fault("hang", address)
    lab.kube_fault("api", "hang")
    settings = replace(lab.settings, call_seconds=1)
    started = time.monotonic()
    done = lab.run("cp-2", settings)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    # 2 tries of the API, 2 rounds of 3 control planes, 1 s each: nothing waits longer.
    assert elapsed < 8 + 5, elapsed
    assert "NOT CLEANED: the Kubernetes API does not answer: the Node of 192.168.1.211, if any, is left" in done.stderr
    assert "NOT CLEANED: no control plane answered talosctl etcd members" in done.stderr
    assert "gave up after" in done.stderr


def test_a_worker_is_cordoned_drained_and_its_node_deleted(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    done = lab.run("worker-1")
    assert done.returncode == 0, done.stderr
    assert lab.calls("worker-1")[1:] == [
        "kubectl --request-timeout=5s cordon worker-1",
        "kubectl --request-timeout=5s drain worker-1 --ignore-daemonsets --delete-emptydir-data --timeout=2s",
        "kubectl --request-timeout=5s delete node worker-1",
    ]
    assert lab.kube_nodes() == set(BY_NAME) - {"worker-1"}
    assert not [call for call in lab.calls() if call.startswith("talosctl")]  # a worker is no etcd member


@pytest.mark.parametrize("api", ["gone", "hang"])
def test_a_worker_whose_api_is_gone_is_reported_and_left_within_the_bound(tmp_path: Path, api: str) -> None:
    lab = Lab(tmp_path)
    lab.kube_fault("api", api)
    settings = replace(lab.settings, call_seconds=1)
    started = time.monotonic()
    done = lab.run("worker-1", settings)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 2 + 5
    assert "NOT CLEANED: the Kubernetes API does not answer" in done.stderr
    assert "gave up after" in done.stderr and "waiting for the Kubernetes API to list the nodes" in done.stderr
    assert lab.kube_nodes() == set(BY_NAME)


def test_a_drain_that_never_finishes_is_cut_and_the_node_deleted(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    lab.kube_fault("drain", "hang")
    settings = replace(lab.settings, call_seconds=1)
    started = time.monotonic()
    done = lab.run("worker-2", settings)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - started < 3 + 5  # the drain's own 2 s, plus one call's 1 s
    assert "the drain of worker-2 did not finish within 2 s" in done.stderr
    assert "worker-2" not in lab.kube_nodes()


def test_an_api_that_answers_late_is_waited_for(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    lab.kube_fault("api", "late 1")
    done = lab.run("worker-2")
    assert done.returncode == 0, done.stderr
    assert "worker-2" not in lab.kube_nodes()


def test_the_rendered_scripts_pass_shellcheck(tmp_path: Path) -> None:
    shellcheck = require_tools("shellcheck")["shellcheck"]
    scripts = []
    for name in ("cp-1", "worker-1"):
        path = tmp_path / f"{name}.sh"
        path.write_text(leave_script(target(name)), encoding="utf-8")
        scripts.append(str(path))
    done = subprocess.run(
        [shellcheck, "--shell=bash", *scripts], capture_output=True, text=True, check=False, timeout=30
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("node_column", [True, False])
def test_a_member_id_is_read_next_to_its_peer_url_whatever_the_hostname(node_column: bool) -> None:
    """talosctl prints a NODE column only when the answer names its node; a hostname may look hexadecimal."""
    script = leave_script(target("cp-2"))
    start = script.index("member_id() {")
    function = script[start : script.index("\n}\n", start) + 3]
    prefix = "192.168.1.201   " if node_column else ""
    members = "\n".join(
        [
            f"{'NODE            ' if node_column else ''}ID   HOSTNAME   PEER URLS   CLIENT URLS   LEARNER",
            f"{prefix}3e1e8a0a1b5a3b2c   cafe       https://192.168.1.201:2380   https://192.168.1.201:2379   false",
            f"{prefix}9f00d1e2c3b4a596   beef       https://192.168.1.211:2380   https://192.168.1.211:2379   false",
        ]
    )
    bash = require_tools("bash")["bash"]
    done = subprocess.run(
        [bash, "-c", f"{function}\nmembers=$1\nmember_id 192.168.1.211; member_id 192.168.1.21", "-", members],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    assert done.stdout.split() == ["9f00d1e2c3b4a596"]  # and no member for a prefix of its address
