"""Day 2 with storage: turning it on and off, changing the StorageClass, and nodes coming and going
while volumes exist, each as the exact change set `homelab diff` reports.

Volumes are not Pulumi resources: the plugin creates them when a claim binds. That a node's replacement
keeps them is the provider's and Proxmox's doing, not a line of the plan; the replacement scenario says how.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loading import load_stack_file
from diff.engine import Change, diff_plans
from plan.run import PlanResult, run_plan
from tests.support import STACKS, StackEdit, change_set, stack_plan

API_URL = "https://192.168.1.2:8006/api2/json"
NODES = (201, 202, 203)


def _write(directory: Path, name: str, base: str, *edits: StackEdit) -> Path:
    document = yaml.safe_load(STACKS[base].read_text(encoding="utf-8"))
    for edit in edits:
        edit(document["config"])
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def storage_on(config: dict[str, Any]) -> None:
    config["homelab:storage"] = {"enabled": True, "apiUrl": API_URL}


def _storage(**settings: Any) -> StackEdit:
    def edit(config: dict[str, Any]) -> None:
        config["homelab:storage"].update(settings)

    return edit


def add_worker(config: dict[str, Any]) -> None:
    config["homelab:cluster"]["workers"].append({"name": "worker-3", "address": "192.168.1.205", "vmId": 205})


def remove_worker(config: dict[str, Any]) -> None:
    config["homelab:cluster"]["workers"].pop()


def move_worker(config: dict[str, Any]) -> None:
    """w-1 of the ha stack runs on pve-b (round-robin); pin it to pve-a."""
    config["homelab:cluster"]["workers"][0]["proxmoxNode"] = "pve-a"


@functools.cache
def _planned(directory: Path, base: str, edits: tuple[StackEdit, ...]) -> PlanResult:
    name = "-".join([base, *(edit.__name__ for edit in edits)])
    return run_plan(load_stack_file(_write(directory, name, base, *edits)), base)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("storage-scenarios")


def _changes(workdir: Path, old: tuple[StackEdit, ...], new: tuple[StackEdit, ...], base: str = "dev") -> list[Change]:
    before = stack_plan(base) if not old else _planned(workdir, base, old)
    return diff_plans(before, stack_plan(base) if not new else _planned(workdir, base, new))


def _access(action: str, nodes: tuple[int, ...] = NODES, storage: bool = True) -> dict[str, str]:
    names = [f"storage-access-{who}-vm-{node}" for node in nodes for who in ("user", "token")]
    if storage:
        names += ["storage-access", "storage-access-role", "storage-access-user", "storage-access-token"]
        names += ["storage-access-user-storage", "storage-access-token-storage"]
    return dict.fromkeys(names, action)


def _cluster_side(action: str) -> dict[str, str]:
    names = ("storage", "storage-namespace", "storage-config", "storage-release", "storage-class")
    example = ("example-volume", "example-volume-namespace", "example-volume-statefulset")
    return dict.fromkeys((*names, *example), action)


# Node labels are in every machine config whether storage is on or not, so no node changes either way.
def test_turning_storage_on_only_creates(workdir: Path) -> None:
    changes = _changes(workdir, (), (storage_on,))
    assert change_set(changes) == {**_access("create"), **_cluster_side("create")}


def test_turning_storage_off_only_deletes_and_the_driver_outlives_the_claims_pod(workdir: Path) -> None:
    changes = _changes(workdir, (storage_on,), ())
    assert change_set(changes) == {**_access("delete"), **_cluster_side("delete")}
    order = [change.name for change in changes]
    # The pod goes while the driver can still unmount and detach its volume; the token after the driver.
    assert order.index("example-volume-statefulset") < order.index("storage-release")
    assert order.index("storage-release") < order.index("storage-config") < order.index("storage-namespace")
    assert order.index("storage-release") < order.index("storage-access-token")


@pytest.mark.parametrize(
    ("edit", "paths"),
    [
        (_storage(storageClass="bulk"), ["metadata.name"]),
        (_storage(reclaimPolicy="Delete"), ["reclaimPolicy"]),
        (_storage(fsType="xfs"), ["parameters.csi.storage.k8s.io/fstype"]),
    ],
    ids=["rename", "reclaim policy", "filesystem"],
)
def test_a_storage_class_change_replaces_the_class_alone(workdir: Path, edit: StackEdit, paths: list[str]) -> None:
    """A StorageClass is immutable but for its annotations and labels; existing claims keep their volumes
    (a PersistentVolume carries its own reclaim policy and parameters from when it was provisioned)."""
    edit.__name__ = f"class_{paths[0].split('.')[-1].replace('/', '_')}"
    (change,) = _changes(workdir, (storage_on,), (storage_on, edit))
    assert (change.name, change.action, change.paths) == ("storage-class", "replace", paths)
    assert change.delete_before_replace  # a fixed name: the old one goes first


def other_datastore(config: dict[str, Any]) -> None:
    config["homelab:storage"]["datastore"] = "bulk-zfs"


def test_another_datastore_replaces_the_class_and_moves_the_storage_grant(workdir: Path) -> None:
    changes = _changes(workdir, (storage_on,), (storage_on, other_datastore))
    assert change_set(changes) == {
        "storage-class": "replace",
        "storage-access-user-storage": "replace",
        "storage-access-token-storage": "replace",
    }
    paths = {change.name: change.paths for change in changes}
    assert paths["storage-class"] == ["parameters.storage"]
    assert paths["storage-access-token-storage"] == ["path"]


def rename_proxmox_cluster(config: dict[str, Any]) -> None:
    config["homelab:proxmox"]["clusterName"] = "home"


def test_renaming_the_region_relabels_every_node_and_rewrites_the_plugins_config(workdir: Path) -> None:
    """Existing volumes keep the region they were provisioned in (their PersistentVolume's node affinity):
    after a rename no node matches them. The hazard the diff must show."""
    changes = _changes(workdir, (storage_on,), (storage_on, rename_proxmox_cluster))
    assert change_set(changes) == {
        "cluster-vm-201-apply": "update",
        "cluster-vm-202-apply": "update",
        "cluster-vm-203-apply": "update",
        "storage-config": "replace",
        "storage-release": "update",
    }
    release = next(change for change in changes if change.name == "storage-release")
    assert release.paths == [
        "values.controller.podAnnotations.homelab/config-checksum",
        "values.node.nodeSelector.topology.kubernetes.io/region",
    ]


def test_a_new_worker_is_granted_its_vm(workdir: Path) -> None:
    changes = change_set(_changes(workdir, (storage_on,), (storage_on, add_worker)))
    assert {name: action for name, action in changes.items() if name.startswith("storage")} == _access(
        "create", (205,), storage=False
    )
    assert changes["vm-205-vm"] == "create"


def test_a_removed_workers_grants_go_before_its_vm(workdir: Path) -> None:
    changes = _changes(workdir, (storage_on,), (storage_on, remove_worker))
    actions = change_set(changes)
    assert {name: action for name, action in actions.items() if name.startswith("storage")} == _access(
        "delete", (203,), storage=False
    )
    order = [change.name for change in changes]
    assert order.index("storage-access-token-vm-203") < order.index("vm-203-vm")
    assert not [name for name in actions if name.startswith(("storage-release", "storage-class", "example-volume"))]


def test_replacing_a_worker_whose_pod_holds_a_volume_keeps_the_volume(workdir: Path) -> None:
    """Moving w-1 to another host replaces its VM (bpg: node_name forces a new VM without `migrate`).

    bpg deletes the VM with `DELETE /nodes/<host>/qemu/<id>?purge=1&destroy-unreferenced-disks=1`
    (proxmoxtf/resource/vm/vm.go vmDelete, proxmox/nodes/vms/vms.go DeleteVM) and nothing else; the
    disks are Proxmox's to free. Proxmox frees only the volumes the VM owns, by the owner id in their
    names (qemu-server PVE/QemuServer.pm destroy_vm: `return if ... $owner != $vmid`), and the
    unreferenced ones only with that same id (vdisk_list of `$vmid`). The plugin's volumes are
    `vm-9999-pvc-...` (its config pins the owner id, config.storage), so a volume attached to w-1, in
    its config or not, survives; bpg never reads attached disks it does not manage into its state
    (proxmoxtf/resource/vm/disk/disk.go Read keeps the interfaces already there), so no update detaches
    them either. What the plan shows: nothing of the claim's side changes, and the VM's grants are made
    again for the new VM. The drain that runs before a node's VM is deleted detaches the volume cleanly;
    without it, the attachment is released once the Node is gone.
    """
    changes = _changes(workdir, (), (move_worker,), base="ha")
    assert change_set(changes) == {
        "vm-7021-vm": "replace",
        "vm-7021-firewall-ipfilter": "replace",
        "vm-7021-firewall-rules": "replace",
        "vm-7021-firewall-options": "replace",
        "storage-access-user-vm-7021": "replace",
        "storage-access-token-vm-7021": "replace",
        "cluster-vm-7021-apply": "replace",  # its zone label names the new host
    }
    grants = [change for change in changes if change.name.startswith("storage-access")]
    assert all(
        change.reason == "replaced with vm-7021-vm (replaceWith)" and change.delete_before_replace for change in grants
    )
