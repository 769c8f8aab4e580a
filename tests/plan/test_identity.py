"""Identity: a guest keeps its resources when its display name changes, labs keep their own files,
and no VM points at a file the same `up` deletes.

Each scenario is a pair of stacks through `homelab diff` (the example stack and one edit).
"""

from __future__ import annotations

import dataclasses
import posixpath
from pathlib import Path
from typing import Any

import pytest

import components.proxmox.containers
import components.talos.image
from config.guests import Guest, derive_mac, lab_guests
from config.identity import identity_problems
from config.inventory import inventory_from_output
from diff.engine import Change, diff_plans
from plan.run import PlanResult, run_plan
from tests.support import (
    CONTAINER,
    DOWNLOAD,
    VM,
    StackEdit,
    change_set,
    day2_changes,
    edited_stack,
    named,
    stack_config,
    stack_plan,
    unreviewed_changes,
)

CP_1, WORKER_1 = "vm-201", "vm-202"


def rename(old: str, new: str, *, mac: str | None = None) -> StackEdit:
    def edit(config: dict[str, Any]) -> None:
        cluster = config["homelab:cluster"]
        (guest,) = (g for g in [*cluster["controlPlanes"], *cluster["workers"]] if g["name"] == old)
        guest["name"] = new
        if mac:
            guest["mac"] = mac

    return edit


def renamed_node(key: str) -> dict[str, str]:
    """What a rename updates: the router's names and reservation, the VM's name and (derived) MAC, the
    IP filter's comment (it names the MAC), the node's machine config (its hostname)."""
    return {
        "router-configure": "update",
        f"{key}-vm": "update",
        f"{key}-firewall-ipfilter": "update",
        f"cluster-{key}-apply": "update",
        f"{key}-leave": "update",  # its script names the node
    }


RENAMES: dict[str, tuple[StackEdit, dict[str, str]]] = {
    "rename worker-1 to worker-a": (rename("worker-1", "worker-a"), renamed_node(WORKER_1)),
    "rename cp-1 to cp-a": (rename("cp-1", "cp-a"), renamed_node(CP_1)),
    # With the MAC it had pinned, the NIC and its IP filter stay as they are.
    "rename worker-1 keeping its MAC": (
        rename("worker-1", "worker-a", mac=derive_mac("homelab", "worker-1")),
        {
            "router-configure": "update",
            f"{WORKER_1}-vm": "update",
            f"cluster-{WORKER_1}-apply": "update",
            f"{WORKER_1}-leave": "update",
        },
    ),
}


@pytest.mark.parametrize("name", list(RENAMES))
def test_a_rename_updates_the_guest_in_place(tmp_path: Path, name: str) -> None:
    edit, expected = RENAMES[name]
    changes = unreviewed_changes(edited_stack(tmp_path, edit))
    assert change_set(changes) == expected
    assert not [c for c in changes if c.action in ("replace", "delete", "create")]


def test_a_renamed_vm_changes_its_name_and_derived_mac_only(tmp_path: Path) -> None:
    changes = {c.name: c for c in unreviewed_changes(edited_stack(tmp_path, rename("worker-1", "worker-a")))}
    assert changes[f"{WORKER_1}-vm"].paths == ["name", "networkDevices[0].macAddress"]
    assert changes[f"cluster-{WORKER_1}-apply"].paths == ["machineConfigurationInput"]
    pinned = {
        c.name: c
        for c in unreviewed_changes(
            edited_stack(tmp_path, rename("worker-1", "worker-a", mac=derive_mac("homelab", "worker-1")))
        )
    }
    assert pinned[f"{WORKER_1}-vm"].paths == ["name"]


def _earlier_version(monkeypatch: pytest.MonkeyPatch, config_file: Path | None = None) -> PlanResult:
    """The plan of the version that keyed guests by display name and named the files without the lab."""
    with monkeypatch.context() as patched:
        patched.setattr(Guest, "key", property(lambda guest: guest.name))
        patched.setattr(
            components.talos.image,
            "iso_file_name",
            lambda _lab, version, schematic: f"talos-{version}-nocloud-amd64-{schematic[:12]}.iso",
        )
        patched.setattr(
            components.proxmox.containers, "template_file_name", lambda url, _lab: f"homelab-{posixpath.basename(url)}"
        )
        config = stack_config("dev") if config_file is None else _load(config_file)
        plan = run_plan(config, "dev")
    kept = [r for r in plan.registrations if not _new_in_this_version(r.name)]
    return dataclasses.replace(plan, registrations=kept)


def _new_in_this_version(name: str) -> bool:
    """What the earlier version did not have at all (the membership commands on the client)."""
    return name.endswith("-leave") or name.startswith("cluster-membership")


def _existing(changes: list[Change]) -> list[Change]:
    """The changes to what the earlier version made (the rest is created by this version anyway)."""
    return [c for c in changes if not (c.action == "create" and _new_in_this_version(c.name))]


def _load(path: Path) -> Any:
    from config.loading import load_stack_file

    return load_stack_file(path)


def test_a_stack_of_the_earlier_naming_keeps_every_resource(monkeypatch: pytest.MonkeyPatch) -> None:
    earlier = _earlier_version(monkeypatch)
    assert named(earlier, "worker-1-vm").inputs["vmId"] == 202  # the URNs of the earlier version
    assert _existing(diff_plans(earlier, stack_plan("dev"))) == []


def test_renaming_in_the_same_up_as_the_upgrade_would_delete_the_vm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Why the upgrade's first `up` must keep the names: the alias is the display name of now."""
    changes = change_set(
        _existing(
            diff_plans(_earlier_version(monkeypatch), _plan(edited_stack(tmp_path, rename("worker-1", "worker-a"))))
        )
    )
    assert changes[f"{WORKER_1}-vm"] == "create"
    assert changes["worker-1-vm"] == "delete"


def test_a_lab_of_another_name_gets_its_own_template_once_and_its_containers_with_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def other_name(config: dict[str, Any]) -> None:
        config["homelab:cluster"]["name"] = "lab2"

    stack = edited_stack(tmp_path, other_name)
    changes = change_set(_existing(diff_plans(_earlier_version(monkeypatch, stack), _plan(stack))))
    assert changes == {
        "container-template-pve": "replace",
        **_containers_replaced("router", ("options",), ("configure",)),
        **_containers_replaced(
            "talos-client",
            ("ipfilter", "rules", "options"),
            ("sshd-access", "tools", "talosconfig", "kubeconfig", "lifecycle-timers"),
        ),
        **{k: v for k, v in PINNED_TO_THE_CLIENT.items() if not _new_in_this_version(k)},
    }


def _plan(path: Path) -> PlanResult:
    return run_plan(_load(path), "dev")


def second_lab(config: dict[str, Any]) -> None:
    """Another lab on the same host, apart from the first as the docs ask: name, bridge, VM ids, subnets."""
    config["homelab:cluster"]["name"] = "lab2"
    network = config["homelab:network"]
    network["bridge"] = "vmbr2"
    network["cidr"] = "192.168.2.0/24"
    network["router"] = {
        "address": "192.168.2.200",
        "wanAddress": "192.168.0.201/24",
        "wanGateway": "192.168.0.1",
        "vmId": 300,
    }
    cluster = config["homelab:cluster"]
    for guest in [*cluster["controlPlanes"], *cluster["workers"], config["homelab:client"]]:
        guest["vmId"] += 100
        guest["address"] = guest["address"].replace("192.168.1.", "192.168.2.")
    config["homelab:loadBalancer"] = {"pool": "10.10.20.0/24", "ingressAddress": "10.10.20.10"}


def host_objects(plan: PlanResult) -> set[tuple[str, str, str]]:
    """What Proxmox keys by name or id on a host: datastore files, guests, bridges."""
    objects: set[tuple[str, str, str]] = set()
    for registration in plan.registrations:
        inputs = registration.inputs
        if registration.type == DOWNLOAD:
            volume = f"{inputs['datastoreId']}:{inputs['contentType']}/{inputs['fileName']}"
            objects.add((inputs["nodeName"], "file", volume))
        elif registration.type in (VM, CONTAINER):
            objects.add((inputs["nodeName"], "guest", str(inputs["vmId"])))
        elif registration.type == "proxmoxve:network/linux/bridge:Bridge":
            objects.add((inputs["nodeName"], "bridge", str(inputs["name"])))
    return objects


def test_a_second_lab_on_the_host_shares_nothing_with_the_first(tmp_path: Path) -> None:
    first, second = host_objects(stack_plan("dev")), host_objects(_plan(edited_stack(tmp_path, second_lab)))
    assert {kind for _, kind, _ in first} == {"file", "guest", "bridge"}
    assert first.isdisjoint(second)


def test_datastore_files_carry_the_labs_name(tmp_path: Path) -> None:
    """Only the lab's name apart: the files differ still (so destroying one lab keeps the other's)."""

    def other_name(config: dict[str, Any]) -> None:
        config["homelab:cluster"]["name"] = "lab2"

    def files(plan: PlanResult) -> set[str]:
        return {volume for _, kind, volume in host_objects(plan) if kind == "file"}

    first, second = files(stack_plan("dev")), files(_plan(edited_stack(tmp_path, other_name)))
    assert len(first) == len(second) == 2
    assert first.isdisjoint(second)
    assert all(posixpath.basename(volume).startswith("lab2-") for volume in second)


def test_the_default_labs_template_keeps_the_name_earlier_versions_gave_it() -> None:
    """So an upgrade does not replace the template, and with it the router and the client."""
    (template,) = (r for r in stack_plan("dev").by_type(DOWNLOAD) if r.inputs["contentType"] == "vztmpl")
    url = stack_config("dev").proxmox.container_template.url
    assert template.inputs["fileName"] == f"homelab-{posixpath.basename(url)}"


def move_iso_datastore(config: dict[str, Any]) -> None:
    config["homelab:proxmox"]["isoDatastore"] = "nfs-iso"


# The commands on the client without replaceWith follow its new host key: a new connection, an update.
PINNED_TO_THE_CLIENT = {
    **{f"{node}-leave": "update" for node in ("vm-201", "vm-202", "vm-203")},
    "cluster-membership-whole-lab": "update",
    "cluster-upgrade-rollout": "update",
    "metallb-webhook-ready": "update",
}


def _containers_replaced(container: str, firewall: tuple[str, ...], configures: tuple[str, ...]) -> dict[str, str]:
    """A container made again: its new host key and the first contact that installs it, its firewall and
    what configures it."""
    return {
        f"{container}-container": "replace",
        f"{container}-host-key-ed25519": "replace",
        f"{container}-host-key-install": "replace",
        **{f"{container}-firewall-{part}": "replace" for part in firewall},
        **{f"{container}-{step}": "replace" for step in configures},
    }


def test_moving_the_iso_datastore_moves_the_vms_cdrom_before_the_old_file_goes(tmp_path: Path) -> None:
    changes = day2_changes(edited_stack(tmp_path, move_iso_datastore))
    # The template lives there too: bpg replaces a container whose template changes (and what configures it).
    assert change_set(changes) == {
        "talos-image-iso-pve": "replace",
        **{f"{node}-vm": "update" for node in ("vm-201", "vm-202", "vm-203")},
        "container-template-pve": "replace",
        **_containers_replaced("router", ("options",), ("configure",)),
        **_containers_replaced(
            "talos-client",
            ("ipfilter", "rules", "options"),
            ("sshd-access", "tools", "talosconfig", "kubeconfig", "lifecycle-timers"),
        ),
        **PINNED_TO_THE_CLIENT,
    }
    by_name = {c.name: c for c in changes}
    for node in ("vm-201", "vm-202", "vm-203"):
        assert "cdrom.fileId" in by_name[f"{node}-vm"].paths
    _assert_nothing_points_at_a_deleted_file(stack_plan("dev"), changes)


def _assert_nothing_points_at_a_deleted_file(new: PlanResult, changes: list[Change]) -> None:
    """Every replaced file is created first (deleted at the end of the `up`), and everything that names
    it moves to the new one in the same `up` (updated or replaced)."""
    by_urn = {c.urn: c for c in changes}
    order = [c.urn for c in changes]
    files = [c for c in changes if c.type == DOWNLOAD and c.action in ("replace", "delete")]
    assert files
    for file in files:
        assert file.action == "replace" and not file.delete_before_replace, file.name
        consumers = [r for r in new.registrations if any(file.urn in urns for urns in r.property_dependencies.values())]
        assert consumers, file.name
        for consumer in consumers:
            assert by_urn[consumer.urn].action in ("update", "replace"), consumer.name
            assert order.index(file.urn) < order.index(consumer.urn)


def test_a_talos_bump_leaves_the_vms_cdrom_alone(tmp_path: Path) -> None:
    """The ISO ignores its new URL and file name: its id, and so the VMs' CD-ROM, stay."""

    def bump(config: dict[str, Any]) -> None:
        config["homelab:cluster"]["talosVersion"] = "v1.13.10"

    names = change_set(day2_changes(edited_stack(tmp_path, bump)))
    assert not [name for name in names if name.endswith("-vm") or name.startswith("talos-image")]


def _problems(tmp_path: Path, edit: StackEdit) -> list[str]:
    """What the identity check says about NEW, given what the example stack's last `up` exported."""
    previous = inventory_from_output(stack_plan("dev").outputs["inventory"])
    assert previous is not None
    return [str(p) for p in identity_problems(previous.guests[1:], lab_guests(_load(edited_stack(tmp_path, edit))))]


def test_the_stack_exports_each_guests_key_and_nic_by_display_name() -> None:
    guests = {guest["name"]: guest for guest in stack_plan("dev").outputs["inventory"]["guests"]}
    assert guests["worker-1"] == {
        "name": "worker-1",
        "key": "vm-202",
        "vmId": 202,
        "host": "pve",
        "role": "worker",
        "address": "192.168.1.202",
        "mac": derive_mac("homelab", "worker-1"),
        "diskGiB": 20,
    }
    assert guests["talos-client"]["key"] == "talos-client"
    previous = inventory_from_output(stack_plan("dev").outputs["inventory"])
    assert previous is not None
    assert identity_problems(previous.guests, lab_guests(stack_config("dev"))) == []


def test_a_new_vm_id_for_a_node_is_refused_with_the_two_steps(tmp_path: Path) -> None:
    def new_id(config: dict[str, Any]) -> None:
        config["homelab:cluster"]["controlPlanes"][0]["vmId"] = 211

    changes = change_set(unreviewed_changes(edited_stack(tmp_path, new_id)))
    # What the plan alone would do: a second VM with cp-1's MAC and address, then VM 201 deleted.
    assert (changes["vm-211-vm"], changes["vm-201-vm"]) == ("create", "delete")
    assert _problems(tmp_path, new_id) == [
        "cluster.controlPlanes[0].vmId: 211 is a new guest to Proxmox, created while VM 201 (cp-1) still runs "
        "with the same address or MAC, and VM 201 deleted after: remove cp-1 in one `pulumi up` (allowDestroy), "
        "then add it back with VM id 211 in the next"
    ]


def test_a_rename_with_a_derived_mac_says_which_mac_to_keep(tmp_path: Path) -> None:
    old_mac = derive_mac("homelab", "worker-1")
    (problem,) = _problems(tmp_path, rename("worker-1", "worker-a"))
    assert problem.startswith(f"cluster.workers[0]: the NIC's MAC changes from {old_mac} to ")
    assert problem.endswith(f"set `mac: {old_mac}` on it to keep it")
    assert _problems(tmp_path, rename("worker-1", "worker-a", mac=old_mac)) == []


def test_the_client_keeps_its_key_through_a_new_vm_id_and_is_replaced_deleting_first(tmp_path: Path) -> None:
    def new_id(config: dict[str, Any]) -> None:
        config["homelab:client"]["vmId"] = 214

    changes = {c.name: c for c in day2_changes(edited_stack(tmp_path, new_id))}
    container = changes["talos-client-container"]
    assert (container.action, container.paths, container.delete_before_replace) == ("replace", ["vmId"], True)
    assert not [c for c in changes.values() if c.action in ("create", "delete")]
    assert _problems(tmp_path, new_id) == []


def test_a_new_guest_at_a_removed_guests_address_is_named_too(tmp_path: Path) -> None:
    """Replacing worker-2 by worker-3 at its address in one `up`: the same two steps."""

    def swap(config: dict[str, Any]) -> None:
        config["homelab:cluster"]["workers"][1] = {"name": "worker-3", "address": "192.168.1.203", "vmId": 205}

    (problem,) = _problems(tmp_path, swap)
    assert problem.startswith("cluster.workers[1].vmId: 205 is a new guest to Proxmox, created while VM 203 (worker-2)")
