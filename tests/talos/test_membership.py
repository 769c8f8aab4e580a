"""Under mocks: every node's leave command runs on the client before its apply and VM are deleted.

Pulumi deletes dependents first, so what a resource waits for (its upstream) outlives it in a
destroy or a removal: the leave depends on its node's VM and apply and on the client's tools.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.proxmox.remote import RUN_STDIN_SCRIPT
from components.talos.leave_script import LeaveTarget, Member, leave_script
from components.talos.membership import RECORD_SCRIPT, SETTINGS, leave_path
from config.guests import CLIENT_KEY, Role, talos_nodes
from tests.network.tools import require_tools
from tests.support import APPLY, COMMAND, CONTAINER, K8S_PROVIDER, STACK_NAMES, VM, named, stack_config, stack_plan
from tests.support import upstream as waits_for


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_node_has_a_leave_command_deleted_before_its_apply_and_vm(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    applies = {a.inputs["node"]: a for a in plan.by_type(APPLY)}
    client = CLIENT_KEY
    client_files = {named(plan, f"{client}-{suffix}").urn for suffix in ("tools", "talosconfig", "kubeconfig")}
    control_planes = [str(n.address) for n in talos_nodes(config) if n.role is Role.CONTROL_PLANE]
    nodes = talos_nodes(config)
    leaves = [r for r in plan.by_type(COMMAND) if r.name.endswith("-leave")]
    assert sorted(r.name for r in leaves) == sorted(f"{n.key}-leave" for n in nodes)
    for node in nodes:
        leave = named(plan, f"{node.key}-leave")
        vm = named(plan, f"{node.key}-vm")
        apply = applies[str(node.address)]
        assert {vm.urn, apply.urn} | client_files <= set(leave.dependencies)
        upstream = waits_for(plan, leave)
        assert named(plan, f"{client}-container").urn in upstream  # the client outlives every leave
        # No replace_with: a replaced VM's old leave would run after the new VM joined, and remove it.
        assert leave.options.replace_with == []
        assert "triggers" not in leave.inputs
        assert leave.inputs["create"] == RECORD_SCRIPT.format(path=leave_path(node.key))
        assert leave.inputs["delete"] == RUN_STDIN_SCRIPT.format(path=leave_path(node.key))
        role = Member.CONTROL_PLANE if node.role is Role.CONTROL_PLANE else Member.WORKER
        target = LeaveTarget(name=node.name, address=str(node.address), role=role, control_planes=control_planes)
        assert leave.inputs["stdin"] == leave_script(target, SETTINGS)
        assert leave.options.custom_timeouts is not None
        # Nothing on the Proxmox side waits for it: the guests are created in parallel as before.
        assert leave.urn not in waits_for(plan, vm)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_a_destroy_marks_the_whole_lab_gone_before_any_leave(stack: str) -> None:
    plan = stack_plan(stack)
    marker = named(plan, "cluster-membership-whole-lab")
    assert marker.type == COMMAND
    leaves = {r.urn for r in plan.by_type(COMMAND) if r.name.endswith("-leave")}
    assert leaves <= set(marker.dependencies)  # deleted first by `pulumi destroy`
    assert marker.inputs["delete"] == f"touch {SETTINGS.destroying_path}"
    assert marker.inputs["create"] == f"rm -f {SETTINGS.destroying_path}"
    for urn in leaves:
        assert marker.urn not in {*next(r for r in plan.registrations if r.urn == urn).dependencies}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_kubernetes_objects_of_an_unreachable_cluster_leave_the_state(stack: str) -> None:
    (provider,) = stack_plan(stack).by_type(K8S_PROVIDER)
    assert provider.inputs["deleteUnreachable"] in (True, "true")


def test_the_registered_worker_leave_drains_and_deletes_its_node(tmp_path: Path) -> None:
    """The dev stack's own leave script for worker-1, with the lock and marker moved under tmp_path."""
    plan = stack_plan("dev")
    script = named(plan, "vm-202-leave").inputs["stdin"]
    script = script.replace(SETTINGS.lock_path, str(tmp_path / "lock")).replace(
        SETTINGS.destroying_path, str(tmp_path / "destroyed")
    )
    (tmp_path / "leave.sh").write_text(script, encoding="utf-8")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl").write_text(
        '#!/bin/sh\nprintf "%s\\n" "kubectl $*" >>"$CALLS"\n'
        'case "$2" in get) echo "worker-1 192.168.1.202"; echo "cp-1 192.168.1.201" ;; esac\n',
        encoding="utf-8",
    )
    (bin_dir / "kubectl").chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls)}
    bash = require_tools("bash")["bash"]
    done = subprocess.run(
        [bash, str(tmp_path / "leave.sh")], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    steps = [line.split()[2] for line in calls.read_text(encoding="utf-8").splitlines()]
    assert steps == ["get", "cordon", "drain", "delete"]
    assert "Node worker-1 cordoned, drained and deleted" in done.stdout


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_registered_leave_scripts_pass_shellcheck(stack: str, tmp_path: Path) -> None:
    shellcheck = require_tools("shellcheck")["shellcheck"]
    plan = stack_plan(stack)
    scripts = []
    for leave in (r for r in plan.by_type(COMMAND) if r.name.endswith("-leave")):
        path = tmp_path / f"{leave.name}.sh"
        path.write_text(leave.inputs["stdin"], encoding="utf-8")
        scripts.append(str(path))
    done = subprocess.run(
        [shellcheck, "--shell=bash", *scripts], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stdout


def test_guests_still_do_not_wait_for_the_client() -> None:
    plan = stack_plan("dev")
    client = named(plan, "talos-client-container").urn
    for vm in plan.by_type(VM):
        assert client not in waits_for(plan, vm)
    assert plan.by_type(CONTAINER)
