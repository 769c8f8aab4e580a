"""Pydantic models of the stack config (DESIGN §5).

Field names are snake_case in Python and camelCase in the stack file. Every
model forbids unknown keys. Rules that involve more than one field live in
`config.rules`, so the models stay a plain description of the shape.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from config.types import (
    BridgeName,
    DnsLabel,
    DnsName,
    Ipv4Address,
    Ipv4Interface,
    Ipv4Network,
    KubernetesVersion,
    MacAddress,
    SshPublicKey,
    TalosVersion,
    VmId,
)


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
        hide_input_in_errors=True,
    )


class ProxmoxConfig(_Model):
    nodes: list[DnsLabel] = Field(min_length=1)
    vm_datastore: str = Field(default="local-lvm", min_length=1)
    iso_datastore: str = Field(default="local", min_length=1)
    wan_bridge: BridgeName = "vmbr0"


class _Placement(_Model):
    mac: MacAddress | None = None
    proxmox_node: DnsLabel | None = None


class RouterConfig(_Placement):
    name: DnsLabel = "router"
    address: Ipv4Address
    wan_address: Ipv4Interface
    wan_gateway: Ipv4Address
    vm_id: VmId
    cores: int = Field(default=1, strict=True, ge=1, le=64)
    memory_mib: int = Field(default=512, strict=True, ge=256, le=1_048_576, alias="memoryMiB")
    disk_gib: int = Field(default=4, strict=True, ge=2, le=65_536, alias="diskGiB")


class DhcpRange(_Model):
    start: Ipv4Address
    end: Ipv4Address


class NetworkConfig(_Model):
    bridge: BridgeName = "vmbr1"
    cidr: Ipv4Network
    router: RouterConfig
    upstream_dns: list[Ipv4Address] = Field(
        default_factory=lambda: [_address("1.1.1.1"), _address("9.9.9.9")], min_length=1
    )
    admin_cidrs: list[Ipv4Network] = Field(min_length=1)
    dynamic_range: DhcpRange | None = None
    # Physical ports joining the lab bridge across hosts, per Proxmox host.
    bridge_ports: dict[DnsLabel, list[str]] = Field(default_factory=dict)
    # An address for the Proxmox host itself on the lab bridge, per host.
    host_addresses: dict[DnsLabel, Ipv4Interface] = Field(default_factory=dict)


class GuestConfig(_Placement):
    name: DnsLabel
    address: Ipv4Address
    vm_id: VmId
    cores: int = Field(default=2, strict=True, ge=1, le=128)
    memory_mib: int = Field(default=4096, strict=True, ge=1024, le=1_048_576, alias="memoryMiB")
    disk_gib: int = Field(default=20, strict=True, ge=10, le=65_536, alias="diskGiB")


class ClientConfig(GuestConfig):
    cores: int = Field(default=1, strict=True, ge=1, le=64)
    memory_mib: int = Field(default=1024, strict=True, ge=256, le=1_048_576, alias="memoryMiB")
    disk_gib: int = Field(default=8, strict=True, ge=4, le=65_536, alias="diskGiB")


class ClusterConfig(_Model):
    name: DnsLabel = "homelab"
    talos_version: TalosVersion = "v1.13.9"
    kubernetes_version: KubernetesVersion = "1.36.3"
    vip: Ipv4Address | None = None
    control_planes: list[GuestConfig] = Field(min_length=1)
    workers: list[GuestConfig] = Field(default_factory=list)
    install_disk: str = Field(default="/dev/sda", pattern=r"^/dev/[a-z0-9/]+$")
    pod_cidr: Ipv4Network = Field(default_factory=lambda: _network("10.244.0.0/16"))
    service_cidr: Ipv4Network = Field(default_factory=lambda: _network("10.96.0.0/12"))


class LoadBalancerConfig(_Model):
    pool: Ipv4Network
    ingress_address: Ipv4Address


class SiteConfig(_Model):
    host: DnsName = "www.example.com"
    replicas: int = Field(default=2, strict=True, ge=1, le=50)


class LabConfig(_Model):
    ssh_public_keys: list[SshPublicKey] = Field(default_factory=list)
    proxmox: ProxmoxConfig
    network: NetworkConfig
    cluster: ClusterConfig
    client: ClientConfig
    load_balancer: LoadBalancerConfig
    site: SiteConfig = Field(default_factory=SiteConfig)


def _address(text: str) -> Ipv4Address:
    import ipaddress

    return ipaddress.IPv4Address(text)


def _network(text: str) -> Ipv4Network:
    import ipaddress

    return ipaddress.IPv4Network(text)
