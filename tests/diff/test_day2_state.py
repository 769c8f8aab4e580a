"""Day 2 against the lab's state: pairs of stacks through `homelab diff --format json` (hazards, exit
codes, refusals), and the program's own guard reading the running lab's inventory under mocks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loading import load_stack_file
from plan.run import ProgramError, run_plan
from tests.support import STACKS, homelab, stack_plan

Edit = Callable[[dict[str, Any]], None]


def stack_file(directory: Path, name: str, *edits: Edit, base: str = "dev") -> Path:
    document = yaml.safe_load(STACKS[base].read_text(encoding="utf-8"))
    for edit in edits:
        edit(document["config"])
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def diff(old: Path, new: Path) -> tuple[int, dict[str, Any], str]:
    ran = homelab("diff", old, new, "--format", "json")
    return ran.returncode, (json.loads(ran.stdout) if ran.stdout else {}), ran.stderr


def hazards(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(hazard["kind"], hazard["subject"]) for hazard in document["hazards"]]


def actions(document: dict[str, Any], *types: str) -> dict[str, str]:
    return {c["name"]: c["action"] for c in document["changes"] if not types or c["type"] in types}


VM = "proxmoxve:index/vmLegacy:VmLegacy"
CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy"
APPLY = "talos:machine/configurationApply:ConfigurationApply"


def cluster(config: dict[str, Any]) -> dict[str, Any]:
    return config["homelab:cluster"]


def remove_worker(config: dict[str, Any]) -> None:
    cluster(config)["workers"].pop()


def allow(*guests: str) -> Edit:
    return lambda config: config.__setitem__("homelab:allowDestroy", list(guests))


def two_hosts(config: dict[str, Any]) -> None:
    """pve and pve2, every guest pinned to pve."""
    config["homelab:proxmox"]["nodes"] = ["pve", "pve2"]
    config["homelab:network"]["bridgePorts"] = {"pve": ["enp2s0"], "pve2": ["enp2s0"]}
    config["homelab:network"]["router"]["proxmoxNode"] = "pve"
    for guest in [*cluster(config)["controlPlanes"], *cluster(config)["workers"], config["homelab:client"]]:
        guest["proxmoxNode"] = "pve"


def renumber(config: dict[str, Any]) -> None:
    """The whole lab moved from 192.168.1.0/24 to 192.168.2.0/24."""
    moved = yaml.safe_load(yaml.safe_dump(config).replace("192.168.1.", "192.168.2."))
    config.update(moved)


def test_an_unchanged_stack_has_no_change_and_no_hazard(tmp_path: Path) -> None:
    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "same"))
    assert (code, document) == (0, {"hazards": [], "changes": []})


def test_a_cosmetic_change_has_no_hazard(tmp_path: Path) -> None:
    code, document, _ = diff(
        STACKS["dev"], stack_file(tmp_path, "replicas", lambda c: c["homelab:site"].update(replicas=3))
    )
    assert code == 1
    assert document["hazards"] == []
    assert actions(document) == {"example-site-deployment": "update"}


def test_removing_a_worker_destroys_it_and_up_refuses_until_the_stack_allows_it(tmp_path: Path) -> None:
    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "removed", remove_worker))
    assert code == 3
    assert hazards(document) == [("destroys", "worker-2"), ("interrupts", "router")]
    why = document["hazards"][0]["why"]
    assert why.startswith("worker-2 (VM 203 on pve) is deleted with its disks: it is no longer in the stack")
    assert "drained and its Node deleted first" in why
    assert why.endswith("(pulumi up refuses it until homelab:allowDestroy names worker-2)")
    assert actions(document, VM, APPLY) == {"cluster-vm-203-apply": "delete", "vm-203-vm": "delete"}

    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "allowed", remove_worker, allow("worker-2")))
    assert code == 3  # still destroys: the stack only says it is intended
    assert document["hazards"][0]["why"].endswith("(allowed by allowDestroy)")


def test_the_program_refuses_a_destroying_change_unless_the_stack_allows_it(tmp_path: Path) -> None:
    running = stack_plan("dev").outputs
    assert running["inventory"]["guests"][3] == {
        "name": "worker-2",
        "key": "vm-203",
        "vmId": 203,
        "host": "pve",
        "role": "worker",
        "mac": running["inventory"]["guests"][3]["mac"],
        "address": "192.168.1.203",
        "diskGiB": 20,
    }
    with pytest.raises(ProgramError) as refused:
        run_plan(load_stack_file(stack_file(tmp_path, "removed", remove_worker)), "dev", previous=running)
    assert str(refused.value).splitlines() == [
        "homelab refuses this change to the running lab:",
        "  allowDestroy: worker-2 (VM 203 on pve) is deleted with its disks: it is no longer in the stack; it is "
        "drained and its Node deleted first; add worker-2 to homelab:allowDestroy if that is intended",
    ]
    allowed = run_plan(
        load_stack_file(stack_file(tmp_path, "allowed", remove_worker, allow("worker-2"))), "dev", previous=running
    )
    assert not [r for r in allowed.registrations if r.name.startswith("worker-2")]
    # The first `up` of a stack has no inventory to compare with: nothing is refused.
    assert run_plan(load_stack_file(stack_file(tmp_path, "first", remove_worker)), "dev").registrations


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "talosVersion",
            "v1.13.8",
            "cluster.talosVersion: v1.13.8 is older than v1.13.9, which the lab runs: downgrades are refused",
        ),
        (
            "kubernetesVersion",
            "1.36.2",
            "cluster.kubernetesVersion: 1.36.2 is older than 1.36.3, which the lab runs: downgrades are refused",
        ),
    ],
)
def test_downgrades_are_refused_with_exit_2(tmp_path: Path, field: str, value: str, message: str) -> None:
    new = stack_file(tmp_path, "down", lambda c: cluster(c).__setitem__(field, value))
    code, document, stderr = diff(STACKS["dev"], new)
    assert (code, document) == (2, {})
    assert stderr.splitlines()[0] == f"homelab diff: {new} cannot be applied to the running lab {STACKS['dev']}:"
    assert stderr.splitlines()[1].startswith(f"  {message}")
    with pytest.raises(ProgramError, match="downgrades are refused"):
        run_plan(load_stack_file(new), "dev", previous=stack_plan("dev").outputs)


def test_a_disk_shrink_is_refused(tmp_path: Path) -> None:
    new = stack_file(tmp_path, "shrink", lambda c: cluster(c)["workers"][0].__setitem__("diskGiB", 10))
    code, _, stderr = diff(STACKS["dev"], new)
    assert code == 2
    assert stderr.splitlines()[1] == (
        "  cluster.workers[0].diskGiB: 10 is smaller than the 20 GiB worker-1 has: Proxmox cannot shrink a disk; "
        "keep the size, or replace the guest (a new VM id, with allowDestroy naming the old one)"
    )
    grown = stack_file(tmp_path, "grow", lambda c: cluster(c)["workers"][0].__setitem__("diskGiB", 30))
    code, document, _ = diff(STACKS["dev"], grown)
    assert code == 1
    assert actions(document, VM) == {"vm-202-vm": "update"}


@pytest.mark.parametrize(
    ("name", "edit", "path"),
    [
        ("renumber", renumber, "network.cidr"),
        (
            "address",
            lambda c: cluster(c)["workers"][0].__setitem__("address", "192.168.1.222"),
            "cluster.workers[0].address",
        ),
        ("cluster name", lambda c: cluster(c).__setitem__("name", "other"), "cluster.name"),
    ],
)
def test_changes_that_would_cut_guests_off_are_refused_with_the_steps(
    tmp_path: Path, name: str, edit: Edit, path: str
) -> None:
    code, _, stderr = diff(STACKS["dev"], stack_file(tmp_path, name.replace(" ", "-"), edit))
    assert code == 2
    assert any(line.startswith(f"  {path}: ") for line in stderr.splitlines()), stderr


def test_a_node_given_another_vm_id_is_refused_with_the_two_steps(tmp_path: Path) -> None:
    """To Proxmox a new VM id is a new guest: it would run beside the old one with its MAC and address."""
    new = stack_file(tmp_path, "cp-vm", lambda c: cluster(c)["controlPlanes"][0].__setitem__("vmId", 211))
    code, _, stderr = diff(STACKS["dev"], new)
    assert code == 2
    assert stderr.splitlines()[1] == (
        "  cluster.controlPlanes[0].vmId: 211 is a new guest to Proxmox, created while VM 201 (cp-1) still runs "
        "with the same address or MAC, and VM 201 deleted after: remove cp-1 in one `pulumi up` (allowDestroy), "
        "then add it back with VM id 211 in the next"
    )


def test_removing_the_only_control_plane_destroys_the_cluster(tmp_path: Path) -> None:
    def replace_cp(config: dict[str, Any]) -> None:
        cluster(config)["controlPlanes"][0] = {"name": "cp-9", "address": "192.168.1.209", "vmId": 209}

    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "cp-9", replace_cp))
    assert code == 3
    assert hazards(document)[0] == ("destroys", "cp-1")
    assert "it is the only control plane: etcd and every Kubernetes object are lost" in document["hazards"][0]["why"]
    assert actions(document, VM) == {"vm-209-vm": "create", "vm-201-vm": "delete"}


def test_the_client_given_another_vm_id_is_replaced_deleting_first(tmp_path: Path) -> None:
    code, document, _ = diff(
        STACKS["dev"], stack_file(tmp_path, "client-vm", lambda c: c["homelab:client"].__setitem__("vmId", 214))
    )
    assert code == 3
    assert hazards(document)[0][0] == "destroys"
    changes = {c["name"]: c for c in document["changes"]}
    assert changes["talos-client-container"]["action"] == "replace"
    assert changes["talos-client-container"]["deleteBeforeReplace"]


def test_a_rename_is_refused_unless_the_mac_is_kept(tmp_path: Path) -> None:
    def rename(config: dict[str, Any]) -> None:
        cluster(config)["workers"][0]["name"] = "worker-a"

    code, _, stderr = diff(STACKS["dev"], stack_file(tmp_path, "renamed", rename))
    assert code == 2
    assert "set `mac: " in stderr
    old_mac = stack_plan("dev").outputs["inventory"]["guests"][2]["mac"]

    def rename_keeping_mac(config: dict[str, Any]) -> None:
        rename(config)
        cluster(config)["workers"][0]["mac"] = old_mac

    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "renamed-kept", rename_keeping_mac))
    assert code == 1
    assert actions(document, VM, APPLY) == {"vm-202-vm": "update", "cluster-vm-202-apply": "update"}
    assert not [h for h in document["hazards"] if h["kind"] == "destroys"]


def test_moving_a_guest_to_another_host_destroys_it(tmp_path: Path) -> None:
    old = stack_file(tmp_path, "two-hosts", two_hosts)
    moved = stack_file(
        tmp_path, "moved", two_hosts, lambda c: cluster(c)["workers"][0].__setitem__("proxmoxNode", "pve2")
    )
    code, document, _ = diff(old, moved)
    assert code == 3
    assert hazards(document)[0] == ("destroys", "worker-1")
    assert "it moves from pve to pve2" in document["hazards"][0]["why"]
    assert actions(document, VM)["vm-202-vm"] == "replace"


def test_three_to_one_control_planes_destroys_two_members_one_at_a_time(tmp_path: Path) -> None:
    def one_control_plane(config: dict[str, Any]) -> None:
        del cluster(config)["controlPlanes"][1:]

    new = stack_file(tmp_path, "one-cp", one_control_plane, base="ha")
    code, document, _ = diff(STACKS["ha"], new)
    assert code == 3
    destroyed = [h for h in document["hazards"] if h["kind"] == "destroys"]
    assert [h["subject"] for h in destroyed] == ["cp-2", "cp-3"]
    assert all("its etcd member leaves first" in h["why"] for h in destroyed)


def test_going_to_three_control_planes_moves_the_api_to_the_vip(tmp_path: Path) -> None:
    def ha(config: dict[str, Any]) -> None:
        cluster(config)["vip"] = "192.168.1.210"
        cluster(config)["controlPlanes"] += [
            {"name": "cp-2", "address": "192.168.1.206", "vmId": 206},
            {"name": "cp-3", "address": "192.168.1.207", "vmId": 207},
        ]

    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "ha", ha))
    assert code == 1
    assert ("needs-you", "kubeconfig") in hazards(document)
    assert not [h for h in document["hazards"] if h["kind"] == "destroys"]


def test_a_kubernetes_bump_leaves_the_machine_configs_to_the_rollout(tmp_path: Path) -> None:
    code, document, _ = diff(
        STACKS["dev"], stack_file(tmp_path, "k8s", lambda c: cluster(c).__setitem__("kubernetesVersion", "1.36.4"))
    )
    assert code == 1
    assert actions(document, APPLY) == {}
    assert hazards(document) == [("interrupts", "cluster")]
    assert "upgrade-k8s" in document["hazards"][0]["why"]


def test_a_new_pool_needs_the_laptops_hosts_line_and_routes(tmp_path: Path) -> None:
    def pool(config: dict[str, Any]) -> None:
        config["homelab:loadBalancer"] = {"pool": "10.10.20.0/24", "ingressAddress": "10.10.20.10"}

    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "pool", pool))
    assert code == 1
    assert ("needs-you", "/etc/hosts") in hazards(document)
    assert ("needs-you", "laptop routes") in hazards(document)


def test_text_lists_hazards_before_the_changes(tmp_path: Path) -> None:
    ran = homelab("diff", STACKS["dev"], stack_file(tmp_path, "removed", remove_worker))
    assert ran.returncode == 3
    lines = ran.stdout.splitlines()
    assert lines[2] == "hazards (what the running lab loses or needs from you):"
    assert lines[3] == "  ! destroys: worker-2"
    assert lines.index("  ! destroys: worker-2") < lines.index("to delete:")


def test_more_cores_reboot_only_that_node(tmp_path: Path) -> None:
    code, document, _ = diff(
        STACKS["dev"], stack_file(tmp_path, "cores", lambda c: cluster(c)["workers"][0].__setitem__("cores", 4))
    )
    assert code == 1
    assert actions(document) == {"vm-202-vm": "update"}
    assert hazards(document) == [("interrupts", "worker-1")]
    assert "reboot_after_update" in document["hazards"][0]["why"]


def storage_on(config: dict[str, Any]) -> None:
    config["homelab:network"]["hostAddresses"] = {"pve": "192.168.1.2/24"}
    config["homelab:storage"] = {"enabled": True}


def test_storage_on_and_off_say_what_the_volumes_need(tmp_path: Path) -> None:
    code, document, _ = diff(STACKS["dev"], stack_file(tmp_path, "storage", storage_on))
    assert code == 1
    assert ("needs-you", "Proxmox token") in hazards(document)
    with_storage = stack_file(tmp_path, "with-storage", storage_on)
    code, document, _ = diff(
        with_storage, stack_file(tmp_path, "without", storage_on, lambda c: c.pop("homelab:storage"))
    )
    assert ("needs-you", "storage") in hazards(document)
    assert "vm-9999-pvc-*" in next(h["why"] for h in document["hazards"] if h["subject"] == "storage")


def test_moving_a_control_plane_to_another_host_is_refused_with_the_two_steps(tmp_path: Path) -> None:
    old = stack_file(tmp_path, "two-hosts", two_hosts)
    moved = stack_file(
        tmp_path, "cp-moved", two_hosts, lambda c: cluster(c)["controlPlanes"][0].__setitem__("proxmoxNode", "pve2")
    )
    code, _, stderr = diff(old, moved)
    assert code == 2
    assert stderr.splitlines()[1].startswith(
        "  cluster.controlPlanes[0].proxmoxNode: pve2 moves the control plane cp-1"
    )


def test_switching_the_fabric_interrupts_the_lab_network_and_the_pods(tmp_path: Path) -> None:
    vxlan = STACKS["dev"].parent / "tests" / "fixtures" / "valid" / "vxlan-two-hosts.yaml"
    document = yaml.safe_load(vxlan.read_text(encoding="utf-8"))
    network = document["config"]["homelab:network"]
    cabled = yaml.safe_load(yaml.safe_dump(document))
    cabled_network = cabled["config"]["homelab:network"]
    cabled_network["fabric"] = "bridge"
    del cabled_network["sdn"]
    cabled_network["bridgePorts"] = {"pve-1": ["enp2s0"], "pve-2": ["enp2s0"]}
    old = tmp_path / "cabled.yaml"
    old.write_text(yaml.safe_dump(cabled), encoding="utf-8")
    code, result, _ = diff(old, vxlan)
    assert code == 1
    assert ("interrupts", "lab network") in hazards(result)
    assert ("interrupts", "pods") in hazards(result)
    assert network["bridge"] != cabled_network.get("bridge", "vmbr1") or ("needs-you", "lab network") in hazards(result)
