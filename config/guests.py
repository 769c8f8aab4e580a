"""The lab's guests with everything resolved: MAC, Proxmox host, sizes.

One list feeds the VM NICs, the router's DHCP reservations and the Talos
`node` arguments, so they cannot disagree (DESIGN §4).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from config.models import GuestConfig, LabConfig
from config.placement import Seat, place

# Proxmox VE's own OUI for generated NIC addresses.
PROXMOX_MAC_PREFIX = "BC:24:11"
# The router and the client are one of a kind: their role names them.
ROUTER_KEY = "router"
CLIENT_KEY = "talos-client"


class Role(StrEnum):
    CONTROL_PLANE = "controlplane"
    WORKER = "worker"
    CLIENT = "client"


@dataclass(frozen=True)
class Guest:
    name: str
    role: Role
    address: ipaddress.IPv4Address
    mac: str
    vm_id: int
    proxmox_node: str
    cores: int
    memory_mib: int
    disk_gib: int
    config_path: str  # where it is declared, for messages: "cluster.workers[1]"

    @property
    def is_talos(self) -> bool:
        return self.role is not Role.CLIENT

    @property
    def key(self) -> str:
        """The guest's Pulumi identity: what Proxmox knows it by, so a new display name is an update.

        A Talos node is `vm-<VM id>` (Proxmox keys guests by id; a new id is a new guest there too).
        The client, the only one of its kind, is keyed by its role. Name a per-guest resource
        `<key>-<what>` so that it inherits the guest component's aliases.
        """
        return f"vm-{self.vm_id}" if self.is_talos else CLIENT_KEY

    @property
    def former_key(self) -> str:
        """What earlier versions keyed the guest by (its display name): aliased, so their stacks keep it."""
        return self.name


def derive_mac(cluster_name: str, guest_name: str, nic: str = "net0") -> str:
    """A stable MAC from the cluster and guest names, under Proxmox's prefix."""
    digest = hashlib.sha256(f"{cluster_name}/{guest_name}/{nic}".encode()).digest()
    return ":".join([PROXMOX_MAC_PREFIX, *(f"{byte:02X}" for byte in digest[:3])])


def _declared(config: LabConfig) -> list[tuple[GuestConfig, Role, str]]:
    cluster = config.cluster
    return [
        *((node, Role.CONTROL_PLANE, f"cluster.controlPlanes[{i}]") for i, node in enumerate(cluster.control_planes)),
        *((node, Role.WORKER, f"cluster.workers[{i}]") for i, node in enumerate(cluster.workers)),
        (config.client, Role.CLIENT, "client"),
    ]


def placement(config: LabConfig) -> dict[int, str]:
    """The host of every guest, by VM id (`config.placement`)."""
    seats = [
        Seat(vm_id=spec.vm_id, pinned=spec.proxmox_node, control_plane=role is Role.CONTROL_PLANE)
        for spec, role, _ in _declared(config)
    ]
    return place(seats, config.proxmox.nodes)


def lab_guests(config: LabConfig) -> list[Guest]:
    """Control planes, then workers, then the client, each on its host (`config.placement`)."""
    hosts = placement(config)
    return [
        Guest(
            name=spec.name,
            role=role,
            address=spec.address,
            mac=spec.mac or derive_mac(config.cluster.name, spec.name),
            vm_id=spec.vm_id,
            proxmox_node=hosts[spec.vm_id],
            cores=spec.cores,
            memory_mib=spec.memory_mib,
            disk_gib=spec.disk_gib,
            config_path=path,
        )
        for spec, role, path in _declared(config)
    ]


def router_host(config: LabConfig) -> str:
    return config.network.router.proxmox_node or config.proxmox.nodes[0]


def router_lan_mac(config: LabConfig) -> str:
    router = config.network.router
    return router.mac or derive_mac(config.cluster.name, router.name, "lan")


def router_wan_mac(config: LabConfig) -> str:
    return derive_mac(config.cluster.name, config.network.router.name, "wan")


def talos_nodes(config: LabConfig) -> list[Guest]:
    return [guest for guest in lab_guests(config) if guest.is_talos]


def client_guest(config: LabConfig) -> Guest:
    return next(guest for guest in lab_guests(config) if guest.role is Role.CLIENT)


def hosts_in_use(config: LabConfig) -> list[str]:
    """Proxmox hosts that carry at least one guest, in config order."""
    used = {router_host(config), *(guest.proxmox_node for guest in lab_guests(config))}
    return [host for host in dict.fromkeys(config.proxmox.nodes) if host in used]


def cluster_endpoint_address(config: LabConfig) -> ipaddress.IPv4Address:
    return config.cluster.vip or config.cluster.control_planes[0].address
