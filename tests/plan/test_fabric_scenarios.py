"""Day 2 on several hosts: switching the fabric, adding a host, adding and removing a worker, and exactly
what `pulumi up` would do (`homelab diff OLD NEW`).

Bases: the two-host VXLAN fixture (and the same lab on a cabled `bridge` fabric), and the HA fixture
(3 control planes on 3 hosts, 5 workers).
"""

from __future__ import annotations

import copy
import functools
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loading import load_stack_file
from diff.engine import Change, diff_plans
from plan.run import PlanResult, run_plan
from tests.support import VALID, change_set, named

VXLAN = VALID / "vxlan-two-hosts.yaml"
HA = VALID / "ha-two-hosts.yaml"
STACK = "lab"  # both plans of a pair under one stack name, so URNs match
GUEST_NIC = {"vm": "networkDevices[0]", "container": "networkInterfaces[0]"}
Document = dict[str, Any]


def _document(path: Path) -> Document:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _network(document: Document) -> Document:
    return document["config"]["homelab:network"]


def cabled(document: Document) -> Document:
    """The two-host lab on a `bridge` fabric: vmbr1 on each host, a port each cabling them."""
    bridged = copy.deepcopy(document)
    network = _network(bridged)
    network.update(fabric="bridge", bridge="vmbr1", bridgePorts={"pve-1": ["enp2s0"], "pve-2": ["enp2s0"]})
    del network["sdn"]
    return bridged


def with_host(document: Document) -> Document:
    grown = copy.deepcopy(document)
    grown["config"]["homelab:proxmox"]["nodes"].append("pve-d")
    _network(grown)["bridgePorts"]["pve-d"] = ["enp2s0"]
    return grown


def with_worker(document: Document) -> Document:
    grown = copy.deepcopy(document)
    grown["config"]["homelab:cluster"]["workers"].append({"name": "w-6", "address": "10.77.0.26", "vmId": 7026})
    return grown


def without_w2(document: Document) -> Document:
    smaller = copy.deepcopy(document)
    workers = smaller["config"]["homelab:cluster"]["workers"]
    smaller["config"]["homelab:cluster"]["workers"] = [w for w in workers if w["name"] != "w-2"]
    return smaller


@functools.cache
def _plan(text: str) -> PlanResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Pulumi.lab.yaml"
        path.write_text(text, encoding="utf-8")
        return run_plan(load_stack_file(path), STACK)


def plan_of(document: Document) -> PlanResult:
    return _plan(yaml.safe_dump(document, sort_keys=False))


def changes(old: Document, new: Document) -> list[Change]:
    return diff_plans(plan_of(old), plan_of(new))


def firewall(guest: str, action: str, parts: tuple[str, ...] = ("-ipfilter", "-rules", "-options")) -> dict[str, str]:
    return {f"{guest}-firewall{part}": action for part in parts}


def moved_vm(name: str) -> dict[str, str]:
    """A VM on another host: a new VM (bpg: node_name forces one), its firewall and machine config again."""
    return {
        f"{name}-vm": "replace",
        **firewall(name, "replace"),
        f"cluster-{name}-apply": "replace",
        # Proxmox drops a VM's ACLs with it: the storage plugin's grants on it are made again (ha has storage on).
        f"storage-access-user-{name}": "replace",
        f"storage-access-token-{name}": "replace",
    }


SDN = ("lab-network-sdn-finalizer", "lab-network-zone", "lab-network-vnet", "lab-network-sdn-apply")
RELINKED = {
    "router-container": "update",
    "talos-client-container": "update",
    **{f"{vm}-vm": "update" for vm in ("vm-201", "vm-202", "vm-203")},
    **{f"cluster-{vm}-apply": "update" for vm in ("vm-201", "vm-202", "vm-203")},
}

SCENARIOS: dict[str, tuple[Any, Any, dict[str, str]]] = {
    # The SDN objects come, every lab NIC moves to the VNet at the VXLAN MTU in place, the machine configs
    # get the link MTU, the router its DHCP option; the old bridges go last. No guest is replaced.
    "bridge to vxlan": (
        lambda: cabled(_document(VXLAN)),
        lambda: _document(VXLAN),
        {
            **dict.fromkeys(SDN, "create"),
            **RELINKED,
            "router-configure": "update",
            "lab-network-pve-1": "delete",
            "lab-network-pve-2": "delete",
        },
    ),
    # pve-d's bridge and ISO; the one guest that ranks pve-d first moves there (w-1); no control plane moves.
    "add a host": (
        lambda: _document(HA),
        lambda: with_host(_document(HA)),
        {"lab-network-pve-d": "create", "talos-image-iso-pve-d": "create", **moved_vm("vm-7021")},
    ),
    "add a worker on 3 hosts": (
        lambda: _document(HA),
        lambda: with_worker(_document(HA)),
        {
            "router-configure": "update",
            "talos-client-talosconfig": "update",
            "talos-client-lifecycle-timers": "update",
            "vm-7026": "create",
            "vm-7026-vm": "create",
            "vm-7026-firewall": "create",
            **firewall("vm-7026", "create"),
            "cluster-vm-7026-apply": "create",
            "vm-7026-leave": "create",
            "storage-access-user-vm-7026": "create",
            "storage-access-token-vm-7026": "create",
            "cluster-upgrade-rollout": "update",
        },
    ),
    "remove a worker on 3 hosts": (
        lambda: _document(HA),
        lambda: without_w2(_document(HA)),
        {
            "router-configure": "update",
            "talos-client-talosconfig": "update",
            "talos-client-lifecycle-timers": "update",
            "cluster-upgrade-rollout": "update",
            "vm-7022-leave": "delete",
            "cluster-vm-7022-apply": "delete",
            "storage-access-user-vm-7022": "delete",
            "storage-access-token-vm-7022": "delete",
            "vm-7022-vm": "delete",
            "vm-7022-firewall": "delete",
            **firewall("vm-7022", "delete"),
            "vm-7022": "delete",
        },
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_changes_exactly_what_it_must(name: str) -> None:
    old, new, expected = SCENARIOS[name]
    assert change_set(changes(old(), new())) == expected


def test_switching_to_vxlan_moves_each_nic_to_the_vnet_at_the_vxlan_mtu() -> None:
    by_name = {c.name: c for c in changes(cabled(_document(VXLAN)), _document(VXLAN))}
    for vm in ("vm-201", "vm-202", "vm-203"):
        assert by_name[f"{vm}-vm"].paths == ["networkDevices[0].bridge", "networkDevices[0].mtu"]
    assert by_name["talos-client-container"].paths == ["networkInterfaces[0].bridge", "networkInterfaces[0].mtu"]
    assert by_name["router-container"].paths == ["networkInterfaces[1].bridge", "networkInterfaces[1].mtu"]
    new = plan_of(_document(VXLAN))
    assert named(new, "vm-201-vm").inputs["networkDevices"][0]["bridge"] == "labnet"
    assert named(new, "vm-201-vm").inputs["networkDevices"][0]["mtu"] == 1450


def test_adding_a_host_moves_the_worker_to_it_and_deletes_its_vm_first() -> None:
    by_name = {c.name: c for c in changes(_document(HA), with_host(_document(HA)))}
    move = by_name["vm-7021-vm"]
    assert (move.paths, move.delete_before_replace) == (["nodeName"], True)
    assert "node_name" in move.reason and "proxmoxtf/resource/vm/vm.go" in move.reason
    assert named(plan_of(with_host(_document(HA))), "vm-7021-vm").inputs["nodeName"] == "pve-d"


def test_a_new_vxlan_host_updates_the_zone_and_changes_the_appliers_trigger() -> None:
    """The zone's nodes and peers are updated in place (bpg: only the id forces a new zone); the applier's
    replacement trigger changes with them, so the engine replaces it: a new `PUT /cluster/sdn`."""
    old = _document(VXLAN)
    old["config"]["homelab:client"]["proxmoxNode"] = "pve-2"  # where it runs already; it would rank pve-3 first
    new = copy.deepcopy(old)
    new["config"]["homelab:proxmox"]["nodes"].append("pve-3")
    _network(new)["sdn"]["peers"]["pve-3"] = "192.168.0.13"
    new["config"]["homelab:cluster"]["workers"][0]["proxmoxNode"] = "pve-3"
    by_name = {c.name: c for c in changes(old, new)}
    assert by_name["lab-network-zone"].action == "update"
    assert by_name["lab-network-zone"].paths == ["nodes[2]", "peers[2]"]
    triggers = [named(plan_of(d), "lab-network-sdn-apply").options.replacement_trigger for d in (old, new)]
    assert triggers == [
        "vxlan homelab labnet 10100 pve-1,pve-2 192.168.0.11,192.168.0.12  1450",
        "vxlan homelab labnet 10100 pve-1,pve-2,pve-3 192.168.0.11,192.168.0.12,192.168.0.13  1450",
    ]
    assert by_name["lab-network-sdn-apply"].action == "replace"
    assert by_name["lab-network-sdn-apply"].reason.startswith("its replacementTrigger changed")
