"""What a stack file may change on a running lab: its inventory (the last `up`) against the new config.

Some changes can never be made in place (a downgrade, a smaller disk, a new address for a running
guest): they are refused, with what to do instead. Others destroy a guest and what is on its disk
(a guest removed, or replaced because its VM id or host changed: bpg deletes every disk attached to
a VM it deletes, bpg/terraform-provider-proxmox#1763): they are refused unless `allowDestroy` names
the guest. `homelab diff` and the program itself (components.day2_guard) apply the same rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.guests import Role, lab_guests
from config.identity import identity_problems
from config.inventory import ROUTER_ROLE, GuestRecord, Inventory, lab_inventory
from config.messages import Problem
from config.models import LabConfig


@dataclass(frozen=True)
class Destruction:
    """A guest the change deletes or replaces, with what the lab loses."""

    guest: str
    why: str


@dataclass(frozen=True)
class Day2Review:
    refused: list[Problem]
    """Changes never made in place: the stack is invalid against the running lab."""
    destroys: list[Destruction]
    """Every guest the change destroys, allowed by `allowDestroy` or not."""

    def unallowed(self, allowed: list[str]) -> list[Destruction]:
        return [item for item in self.destroys if item.guest not in allowed]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _paths(config: LabConfig) -> dict[int, str]:
    """Each guest's place in the stack file, by VM id."""
    paths = {config.network.router.vm_id: "network.router"}
    paths.update({node.vm_id: f"cluster.controlPlanes[{i}]" for i, node in enumerate(config.cluster.control_planes)})
    paths.update({node.vm_id: f"cluster.workers[{i}]" for i, node in enumerate(config.cluster.workers)})
    paths[config.client.vm_id] = "client"
    return paths


def review(previous: Inventory, config: LabConfig) -> Day2Review:
    new = lab_inventory(config)
    refused: list[Problem] = []
    for field, old_version, new_version in (
        ("cluster.talosVersion", previous.talos_version, new.talos_version),
        ("cluster.kubernetesVersion", previous.kubernetes_version, new.kubernetes_version),
    ):
        if _version(new_version) < _version(old_version):
            refused.append(
                Problem(
                    field,
                    f"{new_version} is older than {old_version}, which the lab runs: downgrades are refused "
                    "(etcd and the machine configs are not downgraded in place); rebuild the lab to go back",
                )
            )
    if new.cluster != previous.cluster:
        refused.append(
            Problem(
                "cluster.name",
                f"{new.cluster} renames the running lab {previous.cluster}: the name seeds every MAC, file name and "
                "certificate, so keep it, or build a new lab beside this one",
            )
        )
    if new.cidr != previous.cidr:
        refused.append(
            Problem(
                "network.cidr",
                f"{new.cidr} renumbers the running lab ({previous.cidr}): every guest would lose its address and "
                "its guest firewall at once; keep it, or `pulumi destroy` and build the lab again",
            )
        )
    paths = _paths(config)
    now = new.by_vm_id()
    by_name = {guest.name: guest for guest in new.guests}
    destroys: list[Destruction] = []
    only_control_plane = [g for g in previous.guests if g.role == Role.CONTROL_PLANE.value]
    for old in previous.guests:
        current = now.get(old.vm_id)
        if current is None:
            renamed = by_name.get(old.name)
            how = f"its VM id changes to {renamed.vm_id}" if renamed else "it is no longer in the stack"
            destroys.append(Destruction(old.name, _lost(old, how, len(only_control_plane) == 1)))
            continue
        path = paths[old.vm_id]
        if current.role != old.role:
            refused.append(
                Problem(
                    path,
                    f"VM {old.vm_id} is the {old.role} {old.name} in the running lab; a guest does not change role: "
                    "give the new one another VM id and name",
                )
            )
            continue
        if current.disk_gib < old.disk_gib:
            refused.append(
                Problem(
                    f"{path}.diskGiB",
                    f"{current.disk_gib} is smaller than the {old.disk_gib} GiB {old.name} has: Proxmox cannot shrink "
                    "a disk; keep the size, or replace the guest (a new VM id, with allowDestroy naming the old one)",
                )
            )
        if current.address != old.address:
            refused.append(
                Problem(
                    f"{path}.address",
                    f"{current.address} moves the running {old.name} off {old.address}: its guest firewall would "
                    "take the new address before the guest leases it, cutting it off. Instead: add a guest with the "
                    "new address and a new VM id, `pulumi up`, then remove the old one (allowDestroy)",
                )
            )
        if current.host != old.host and old.role == Role.CONTROL_PLANE.value:
            refused.append(
                Problem(
                    f"{path}.proxmoxNode",
                    f"{current.host} moves the control plane {old.name} off {old.host}: its VM would be made again "
                    "without leaving etcd first, leaving a member that never answers. Instead: remove it in one "
                    "`pulumi up` (allowDestroy), then add it back on the new host in the next",
                )
            )
        elif current.host != old.host:
            destroys.append(
                Destruction(
                    old.name,
                    _lost(old, f"it moves from {old.host} to {current.host}", len(only_control_plane) == 1),
                )
            )
    nodes = [guest for guest in previous.guests if guest.role != ROUTER_ROLE]
    refused += identity_problems(nodes, lab_guests(config))
    return Day2Review(refused=refused, destroys=destroys)


def _lost(guest: GuestRecord, how: str, only_control_plane: bool) -> str:
    head = f"{guest.name} (VM {guest.vm_id} on {guest.host}) is deleted with its disks: {how}"
    if guest.role == Role.CONTROL_PLANE.value and only_control_plane:
        return f"{head}; it is the only control plane: etcd and every Kubernetes object are lost"
    if guest.role == Role.CONTROL_PLANE.value:
        return f"{head}; its etcd member leaves first"
    if guest.role == Role.WORKER.value:
        return f"{head}; it is drained and its Node deleted first"
    if guest.role == ROUTER_ROLE:
        return f"{head}; the lab has no DHCP, DNS or NAT until the new router is configured"
    return f"{head}; the client's files (talosconfig, kubeconfig, what it keeps) are made again"


def refusal_lines(review: Day2Review, allowed: list[str]) -> list[str]:
    """What `pulumi up` stops on: one line each."""
    lines = [str(problem) for problem in review.refused]
    lines += [
        f"allowDestroy: {item.why}; add {item.guest} to homelab:allowDestroy if that is intended"
        for item in review.unallowed(allowed)
    ]
    return lines
