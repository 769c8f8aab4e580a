"""The lab's inventory: every guest as Proxmox and the cluster know it, exported by each `pulumi up`.

The next `up` reads it back from its own stack (components.day2_guard) and compares it with the
stack file (config.day2), so a change that would destroy a guest, shrink a disk or downgrade the
cluster is stopped before any resource is touched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from config.guests import ROUTER_KEY, Role, lab_guests, router_host, router_lan_mac
from config.models import LabConfig

ROUTER_ROLE = "router"


@dataclass(frozen=True)
class GuestRecord:
    name: str
    key: str
    """Its Pulumi identity (`Guest.key`): what its resources are named by."""
    vm_id: int
    host: str
    role: str
    """`controlplane`, `worker`, `client` or `router`."""
    mac: str
    address: str
    disk_gib: int


@dataclass(frozen=True)
class Inventory:
    cluster: str
    talos_version: str
    kubernetes_version: str
    cidr: str
    guests: tuple[GuestRecord, ...]

    def by_vm_id(self) -> dict[int, GuestRecord]:
        return {guest.vm_id: guest for guest in self.guests}

    def as_output(self) -> dict[str, Any]:
        """The stack output (camelCase, as the rest of the outputs)."""
        return {
            "cluster": self.cluster,
            "talosVersion": self.talos_version,
            "kubernetesVersion": self.kubernetes_version,
            "cidr": self.cidr,
            "guests": [{_CAMEL.get(key, key): value for key, value in asdict(guest).items()} for guest in self.guests],
        }


_CAMEL = {"vm_id": "vmId", "disk_gib": "diskGiB"}


def lab_inventory(config: LabConfig) -> Inventory:
    router = config.network.router
    guests = [
        GuestRecord(
            name=router.name,
            key=ROUTER_KEY,
            vm_id=router.vm_id,
            host=router_host(config),
            role=ROUTER_ROLE,
            mac=router_lan_mac(config),
            address=str(router.address),
            disk_gib=router.disk_gib,
        ),
        *(
            GuestRecord(
                name=guest.name,
                key=guest.key,
                vm_id=guest.vm_id,
                host=guest.proxmox_node,
                role=Role(guest.role).value,
                mac=guest.mac,
                address=str(guest.address),
                disk_gib=guest.disk_gib,
            )
            for guest in lab_guests(config)
        ),
    ]
    return Inventory(
        cluster=config.cluster.name,
        talos_version=config.cluster.talos_version,
        kubernetes_version=config.cluster.kubernetes_version,
        cidr=str(config.network.cidr),
        guests=tuple(guests),
    )


class InventoryError(ValueError):
    """The previous inventory is not one this program wrote."""


def inventory_from_output(value: Any) -> Inventory | None:
    """The inventory of the last `up` (None before the first one, or from a version that wrote none)."""
    if value is None or value == {}:
        return None
    try:
        guests = tuple(
            GuestRecord(
                name=str(guest["name"]),
                key=str(guest["key"]),
                vm_id=int(guest["vmId"]),
                host=str(guest["host"]),
                role=str(guest["role"]),
                mac=str(guest["mac"]),
                address=str(guest["address"]),
                disk_gib=int(guest["diskGiB"]),
            )
            for guest in value["guests"]
        )
        return Inventory(
            cluster=str(value["cluster"]),
            talos_version=str(value["talosVersion"]),
            kubernetes_version=str(value["kubernetesVersion"]),
            cidr=str(value["cidr"]),
            guests=guests,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise InventoryError(f"the stack output 'inventory' of the last pulumi up is not readable ({error})") from None
