"""Pydantic models of the stack config (DESIGN §5).

Field names are snake_case in Python and camelCase in the stack file. Every
model forbids unknown keys. Rules that involve more than one field live in
`config.rules`, so the models stay a plain description of the shape.

The size of a lab is bounded (`MAX_*`; docs/configuration.md says why: pod networks,
Proxmox ids, what a Proxmox cluster holds), so no stack file makes a plan unbounded.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from config.types import (
    ConfigContract,
    DiskPath,
    DnsLabel,
    DnsName,
    InterfaceName,
    Ipv4Address,
    Ipv4Interface,
    Ipv4Network,
    KubernetesVersion,
    MacAddress,
    SourceNetwork,
    SshPublicKey,
    StorageId,
    TalosVersion,
    VmId,
)

MAX_PROXMOX_HOSTS = 32
MAX_WORKERS = 250
MAX_LIST = 16  # DNS forwarders, ports per host
MAX_ADMIN_CIDRS = 64
MAX_SSH_KEYS = 64


def _as_written(value: object) -> Any:
    """A default as a stack file writes it (the schema shows it); `validate_default` types it."""
    return value


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,
        validate_default=True,
    )


# Proxmox's appliance index (`pveam available`, http://download.proxmox.com/images/aplinfo-pve-8.dat) lists only
# the current point release of each template; 12.12-1 and its sha512 as that index gives them (also pinned, with
# this checksum, in public bpg-provider configurations, e.g. ones citing pveam's signed index).
DEBIAN_TEMPLATE_URL = "http://download.proxmox.com/images/system/debian-12-standard_12.12-1_amd64.tar.zst"
DEBIAN_TEMPLATE_SHA512 = (
    "50c85eaaece677a3ebe01cc909b83872e9da2a22c29ae652838afce71e83222f"
    "df40f6accecd7d52b180e912fc1f85ecdf7b3fc4d3027da4d865e509a9e76597"
)
_TEMPLATE_URL = re.compile(r"^https?://[^/\s]+/\S*[^/\s]\.tar\.(gz|xz|zst)$")
_SHA512 = re.compile(r"^[0-9a-f]{128}$")


class ContainerTemplateConfig(_Model):
    url: str = Field(
        default=DEBIAN_TEMPLATE_URL,
        min_length=1,
        description="Debian container template (a `.tar.zst`, `.tar.xz` or `.tar.gz` URL) both containers are "
        "created from; Proxmox's index keeps only the current point release. Changing it replaces both containers.",
    )
    sha512: str = Field(
        default=DEBIAN_TEMPLATE_SHA512,
        min_length=1,
        description="SHA-512 of the template file (128 lowercase hex digits), as `pveam` lists it.",
    )

    @field_validator("url")
    @classmethod
    def _template_url(cls, value: str) -> str:
        if not _TEMPLATE_URL.match(value):
            raise ValueError(f"{value[:80]!r} is not an http(s) URL of a .tar.zst, .tar.xz or .tar.gz file")
        return value

    @field_validator("sha512")
    @classmethod
    def _sha512(cls, value: str) -> str:
        if not _SHA512.match(value):
            raise ValueError(f"{value[:80]!r} is not a SHA-512 digest (128 lowercase hex digits)")
        return value


class ProxmoxConfig(_Model):
    """The Proxmox VE hosts and their storage."""

    nodes: list[DnsLabel] = Field(
        min_length=1,
        max_length=MAX_PROXMOX_HOSTS,
        description="Proxmox host names (as in the cluster) the lab may use; guests without `proxmoxNode` are spread "
        "over them round-robin, the router goes to the first.",
    )
    vm_datastore: StorageId = Field(default="local-lvm", description="Datastore for VM and container disks.")
    iso_datastore: StorageId = Field(
        default="local", description="Datastore for the Talos ISO and the container template."
    )
    wan_bridge: InterfaceName = Field(
        default="vmbr0", description="Existing uplink bridge on the home LAN; the router's WAN NIC (eth0) joins it."
    )
    container_template: ContainerTemplateConfig = Field(
        default_factory=ContainerTemplateConfig,
        description="Where the containers' Debian template is downloaded from, and its checksum.",
    )


class _Placement(_Model):
    """Where a guest runs and its NIC's MAC."""

    mac: MacAddress | None = Field(
        default=None,
        description="Unicast MAC of the NIC on the lab bridge; unset: derived from `cluster.name` and this name, "
        "under Proxmox's `BC:24:11` prefix.",
    )
    proxmox_node: DnsLabel | None = Field(
        default=None,
        description="One of `proxmox.nodes`; unset: guests round-robin over them, the router on the first.",
    )


class RouterConfig(_Placement):
    """The router container between the home LAN (WAN) and the lab (LAN)."""

    name: DnsLabel = Field(default="router", description="Host name of the router container.")
    address: Ipv4Address = Field(
        description="LAN address (eth1): the lab's gateway, DHCP and DNS server; in `network.cidr`."
    )
    wan_address: Ipv4Interface = Field(
        description="Static WAN address with prefix length (eth0); the laptop routes the lab through it."
    )
    wan_gateway: Ipv4Address = Field(
        description="Default gateway on the WAN side (the home router); in the WAN subnet."
    )
    vm_id: VmId = Field(description="Proxmox id of the router container.")
    cores: int = Field(default=1, strict=True, ge=1, le=64, description="CPU cores.")
    memory_mib: int = Field(
        default=512, strict=True, ge=256, le=1_048_576, alias="memoryMiB", description="Memory in MiB."
    )
    disk_gib: int = Field(
        default=4, strict=True, ge=2, le=65_536, alias="diskGiB", description="Root disk size in GiB."
    )


class DhcpRange(_Model):
    """A DHCP pool on the lab bridge."""

    start: Ipv4Address = Field(description="First address of the pool; in `network.cidr`.")
    end: Ipv4Address = Field(description="Last address of the pool, not before `start`; in `network.cidr`.")


class NetworkConfig(_Model):
    """The lab network: its bridge, subnet and router."""

    bridge: InterfaceName = Field(
        default="vmbr1",
        description="Lab bridge this program creates on every Proxmox host that runs a guest; not `proxmox.wanBridge`.",
    )
    cidr: Ipv4Network = Field(
        description="Lab subnet on the bridge: the router's LAN address, every guest and the VIP."
    )
    router: RouterConfig = Field(description="The router container between the home LAN (WAN) and the lab (LAN).")
    upstream_dns: list[Ipv4Address] = Field(
        default=_as_written(["1.1.1.1", "9.9.9.9"]),
        min_length=1,
        max_length=MAX_LIST,
        description="DNS servers the router forwards the lab's queries to.",
    )
    admin_cidrs: list[SourceNetwork] = Field(
        min_length=1,
        max_length=MAX_ADMIN_CIDRS,
        description="Sources allowed through the router to SSH (22), the Kubernetes API (6443) and the Talos API "
        "(50000).",
    )
    dynamic_range: DhcpRange | None = Field(
        default=None, description="A DHCP pool for other machines on the lab bridge; unset: reserved addresses only."
    )
    bridge_ports: dict[DnsLabel, Annotated[list[InterfaceName], Field(max_length=MAX_LIST)]] = Field(
        default={},
        max_length=MAX_PROXMOX_HOSTS,
        description="Physical ports enslaved to the lab bridge on each host; needed on every host in use once guests "
        "span more than one.",
    )
    host_addresses: dict[DnsLabel, Ipv4Interface] = Field(
        default={},
        max_length=MAX_PROXMOX_HOSTS,
        description="An address for the Proxmox host itself on the lab bridge; its subnet is `network.cidr`.",
    )


class GuestConfig(_Placement):
    """A Talos VM."""

    name: DnsLabel = Field(
        description="Host name, also given to its DHCP reservation and, on a Talos node, the node name."
    )
    address: Ipv4Address = Field(description="LAN address, reserved for the guest's MAC in the router's DHCP.")
    vm_id: VmId = Field(description="Proxmox VM or container id.")
    cores: int = Field(default=2, strict=True, ge=1, le=128, description="CPU cores.")
    memory_mib: int = Field(
        default=4096, strict=True, ge=1024, le=1_048_576, alias="memoryMiB", description="Memory in MiB."
    )
    disk_gib: int = Field(
        default=20, strict=True, ge=10, le=65_536, alias="diskGiB", description="Root disk size in GiB."
    )


class ClientConfig(GuestConfig):
    """The container with talosctl and kubectl."""

    cores: int = Field(default=1, strict=True, ge=1, le=64, description="CPU cores.")
    memory_mib: int = Field(
        default=1024, strict=True, ge=256, le=1_048_576, alias="memoryMiB", description="Memory in MiB."
    )
    disk_gib: int = Field(
        default=8, strict=True, ge=4, le=65_536, alias="diskGiB", description="Root disk size in GiB."
    )


class ClusterConfig(_Model):
    """The Talos Kubernetes cluster and its VMs."""

    name: DnsLabel = Field(default="homelab", description="Cluster name; also seeds the derived MACs.")
    talos_version: TalosVersion = Field(
        default="v1.13.9", description="Talos release of the nodes' ISO and installer image, and of talosctl."
    )
    kubernetes_version: KubernetesVersion = Field(
        default="1.36.3", description="Kubernetes release the cluster runs, and of kubectl on the client."
    )
    machine_config_contract: ConfigContract = Field(
        default="v1.13",
        description="Talos minor whose machine config format the configs and secrets are generated for: the one the "
        "cluster was created with. A `talosVersion` bump leaves it alone; raise it only on purpose, after every node "
        "runs that minor (see Upgrading).",
    )
    vip: Ipv4Address | None = Field(
        default=None,
        description="Talos layer-2 VIP for the Kubernetes API, a free address in `network.cidr`; required with more "
        "than one control plane.",
    )
    control_planes: list[GuestConfig] = Field(min_length=1, description="Control-plane VMs: 1, 3 or 5.")
    workers: list[GuestConfig] = Field(
        default=[], max_length=MAX_WORKERS, description="Worker VMs; MetalLB announces the ingress address from them."
    )
    install_disk: DiskPath = Field(default="/dev/sda", description="Disk Talos installs itself to, inside each VM.")
    pod_cidr: Ipv4Network = Field(
        default=_as_written("10.244.0.0/16"), description="Kubernetes pod network; off the LAN."
    )
    service_cidr: Ipv4Network = Field(
        default=_as_written("10.96.0.0/12"),
        description="Kubernetes service network; off the LAN and the pod network.",
    )


class LoadBalancerConfig(_Model):
    """MetalLB's address pool and the ingress address."""

    pool: Ipv4Network = Field(
        description="MetalLB layer-2 address pool; off the LAN, the router routes it onto the lab bridge."
    )
    ingress_address: Ipv4Address = Field(
        description="Traefik's LoadBalancer address, in the pool; the laptop's /etc/hosts line points the site here."
    )


class SiteConfig(_Model):
    """The example site behind Traefik."""

    host: DnsName = Field(default="www.example.com", description="Host name the example site's Ingress answers for.")
    replicas: int = Field(default=2, strict=True, ge=1, le=50, description="nginx pods behind the example site.")


class LabConfig(_Model):
    """The `homelab:` keys of a stack file."""

    ssh_public_keys: list[SshPublicKey] = Field(
        default=[],
        max_length=MAX_SSH_KEYS,
        description="OpenSSH public keys allowed into the router and client containers, besides the program's own key.",
    )
    proxmox: ProxmoxConfig = Field(description="The Proxmox VE hosts and their storage.")
    network: NetworkConfig = Field(description="The lab network: its bridge, subnet and router.")
    cluster: ClusterConfig = Field(description="The Talos Kubernetes cluster and its VMs.")
    client: ClientConfig = Field(description="The container on the lab bridge with talosctl and kubectl.")
    load_balancer: LoadBalancerConfig = Field(description="MetalLB's address pool and the ingress address.")
    site: SiteConfig = Field(default=_as_written({}), description="The example site behind Traefik.")
