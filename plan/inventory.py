"""What the lab asks of each Proxmox host: its guests with ids and sizes, and the totals per host.

Guests come from the same resolved list that feeds the VMs and containers; the files
each host must hold (Talos ISO, container template) come from the registered downloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from config.guests import ROUTER_KEY, Role, lab_guests, router_host, router_lan_mac
from config.models import LabConfig
from plan.monitor import Registration

DOWNLOAD = "proxmoxve:download/file:File"


@dataclass(frozen=True)
class GuestRow:
    name: str
    key: str  # the guest's Pulumi identity (`Guest.key`): what its component is named
    role: str  # router, controlplane, worker, client
    kind: str  # VM or LXC
    vm_id: int
    host: str
    cores: int
    memory_mib: int
    disk_gib: int
    address: str  # on the lab bridge
    mac: str

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "key": self.key,
            "role": self.role,
            "kind": self.kind,
            "vmId": self.vm_id,
            "host": self.host,
            "cores": self.cores,
            "memoryMiB": self.memory_mib,
            "diskGiB": self.disk_gib,
            "address": self.address,
            "mac": self.mac,
        }


@dataclass
class HostTotals:
    host: str
    guests: list[str] = field(default_factory=list)
    cores: int = 0
    memory_mib: int = 0
    disk_gib: dict[str, int] = field(default_factory=dict)  # datastore -> GiB
    files: list[str] = field(default_factory=list)  # volume ids: `local:iso/talos-....iso`

    def as_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "guests": self.guests,
            "cores": self.cores,
            "memoryMiB": self.memory_mib,
            "diskGiB": self.disk_gib,
            "files": self.files,
        }


def guest_rows(config: LabConfig) -> list[GuestRow]:
    """The router, then the control planes, workers and the client."""
    router = config.network.router
    rows = [
        GuestRow(
            router.name,
            ROUTER_KEY,
            "router",
            "LXC",
            router.vm_id,
            router_host(config),
            router.cores,
            router.memory_mib,
            router.disk_gib,
            str(router.address),
            router_lan_mac(config),
        )
    ]
    for guest in lab_guests(config):
        kind = "LXC" if guest.role is Role.CLIENT else "VM"
        rows.append(
            GuestRow(
                guest.name,
                guest.key,
                guest.role.value,
                kind,
                guest.vm_id,
                guest.proxmox_node,
                guest.cores,
                guest.memory_mib,
                guest.disk_gib,
                str(guest.address),
                guest.mac,
            )
        )
    return rows


def host_totals(config: LabConfig, registrations: list[Registration]) -> list[HostTotals]:
    """Per host in config order (hosts without guests or files left out)."""
    totals = {host: HostTotals(host) for host in config.proxmox.nodes}
    datastore = config.proxmox.vm_datastore
    for row in guest_rows(config):
        host = totals[row.host]
        host.guests.append(row.name)
        host.cores += row.cores
        host.memory_mib += row.memory_mib
        host.disk_gib[datastore] = host.disk_gib.get(datastore, 0) + row.disk_gib
    for download in (r for r in registrations if r.type == DOWNLOAD):
        inputs = download.inputs
        name = inputs.get("fileName") or str(inputs.get("url", "")).rsplit("/", 1)[-1]
        totals[inputs["nodeName"]].files.append(f"{inputs['datastoreId']}:{inputs['contentType']}/{name}")
    return [host for host in totals.values() if host.guests or host.files]
