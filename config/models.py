"""Pydantic models of the stack config (DESIGN §5).

Field names are snake_case in Python and camelCase in the stack file. Every
model forbids unknown keys. Rules that involve more than one field live in
`config.rules`, so the models stay a plain description of the shape.

The size of a lab is bounded (`MAX_*`; docs/configuration.md says why: pod networks,
Proxmox ids, what a Proxmox cluster holds), so no stack file makes a plan unbounded.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic.alias_generators import to_camel

from config.types import (
    ConfigContract,
    DiskPath,
    DnsLabel,
    DnsName,
    FsType,
    InterfaceName,
    Ipv4Address,
    Ipv4Interface,
    Ipv4Network,
    KubernetesVersion,
    MacAddress,
    ProxmoxApiUrl,
    ReclaimPolicy,
    SdnId,
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
MAX_GUESTS_NAMED = 300  # allowDestroy: every guest of the largest lab
MAX_VNI = 16_777_215  # 24 bits (RFC 7348)
MAX_VLAN = 4094
ETHERNET_MTU = 1500
MAX_MTU = 9216  # common jumbo-frame ceiling of NICs and switches


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
# Used with fullmatch: `$` would also match before a trailing newline.
_TEMPLATE_URL = re.compile(r"https?://[^/\s]+/\S*[^/\s]\.tar\.(gz|xz|zst)")
_SHA512 = re.compile(r"[0-9a-f]{128}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
        if value != value.strip():
            raise ValueError(f"{value[:80]!r} has leading or trailing whitespace (a newline?)")
        if not _TEMPLATE_URL.fullmatch(value):
            raise ValueError(f"{value[:80]!r} is not an http(s) URL of a .tar.zst, .tar.xz or .tar.gz file")
        return value

    @field_validator("sha512")
    @classmethod
    def _sha512(cls, value: str) -> str:
        if value != value.strip():
            raise ValueError(f"{value.strip()[:16]}... has leading or trailing whitespace (a newline?)")
        if not _SHA512.fullmatch(value):
            raise ValueError(f"{value[:80]!r} is not a SHA-512 digest (128 lowercase hex digits)")
        return value


class ProxmoxConfig(_Model):
    """The Proxmox VE hosts and their storage."""

    nodes: list[DnsLabel] = Field(
        min_length=1,
        max_length=MAX_PROXMOX_HOSTS,
        description="Proxmox host names (as in the cluster) the lab may use; guests without `proxmoxNode` are spread "
        "over them by VM id (control planes so that no host's loss costs etcd quorum), the router goes to the first.",
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
    cluster_name: DnsLabel = Field(
        default="proxmox",
        description="Name of the Proxmox cluster: every node's `topology.kubernetes.io/region` label and the "
        "region of the storage plugin's config (each node's zone is its host).",
    )
    manage_datacenter_firewall: bool = Field(
        default=True,
        strict=True,
        description="Turn the Proxmox datacenter firewall on (policies ACCEPT), without which no guest NIC's MAC "
        "and IP filter applies; false: the datacenter firewall is yours and must be on.",
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
        description="One of `proxmox.nodes`; unset: placed by VM id (see `proxmox.nodes`), the router on the first.",
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


Fabric = Literal["bridge", "vxlan", "vlan"]


class SdnConfig(_Model):
    """The Proxmox SDN zone and VNet of a `vxlan` or `vlan` fabric (the VNet's id is `network.bridge`)."""

    zone: SdnId = Field(
        default="homelab",
        description="SDN zone id, unique in the Proxmox cluster (SDN is cluster-wide: two labs need two zones).",
    )
    tag: int = Field(
        strict=True,
        ge=1,
        le=MAX_VNI,
        description=f"The VNet's tag: the VXLAN network identifier (1-{MAX_VNI}) or the VLAN id (1-{MAX_VLAN}).",
    )
    peers: dict[DnsLabel, Ipv4Address] = Field(
        default={},
        max_length=MAX_PROXMOX_HOSTS,
        description="`vxlan`: the management address of each host in use, the underlay the VXLAN packets travel.",
    )
    uplink: InterfaceName | None = Field(
        default=None,
        description="`vlan`: the VLAN-aware bridge on every host that carries the tag; unset: `proxmox.wanBridge`.",
    )


class NetworkConfig(_Model):
    """The lab network: its bridge, subnet and router."""

    fabric: Fabric = Field(
        default="bridge",
        description="How the lab segment spans hosts: `bridge` (a Linux bridge per host, `bridgePorts` cabled "
        "between them), `vxlan` (a Proxmox SDN VXLAN zone over the hosts' management network) or `vlan` (a tag on a "
        "VLAN-aware uplink). Changing it on a running lab moves every NIC to a new bridge.",
    )
    bridge: InterfaceName = Field(
        default="vmbr1",
        description="Lab bridge this program creates on every Proxmox host that runs a guest; not `proxmox.wanBridge`. "
        "With an SDN fabric, the VNet's id (at most 8 lowercase letters or digits).",
    )
    underlay_mtu: int = Field(
        default=ETHERNET_MTU,
        strict=True,
        ge=1280,
        le=MAX_MTU,
        description="MTU of the network between the hosts (`bridgePorts`, the management network, the uplink); "
        "the lab's MTU is this, less 50 bytes with `vxlan`, and is set on every lab NIC and in Talos and DHCP.",
    )
    sdn: SdnConfig | None = Field(
        default=None, description="The SDN zone and VNet; required with `fabric` `vxlan` or `vlan`, only then."
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

    talosctl_sha256: str | None = Field(
        default=None,
        description="SHA-256 of `talosctl-linux-amd64` for `cluster.talosVersion`, from the release's "
        "`sha256sum.txt` as you reviewed it; unset: checked against that file at install time (same origin).",
    )
    kubectl_sha256: str | None = Field(
        default=None,
        description="SHA-256 of kubectl for `cluster.kubernetesVersion` (dl.k8s.io's `kubectl.sha256`); unset: "
        "checked against that file at install time (same origin).",
    )

    @field_validator("talosctl_sha256", "kubectl_sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256.fullmatch(value):
            raise ValueError(f"{value[:80]!r} is not a SHA-256 digest (64 lowercase hex digits)")
        return value

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


class StorageConfig(_Model):
    """Persistent volumes: the Proxmox CSI plugin and a default StorageClass."""

    enabled: bool = Field(
        default=False,
        strict=True,
        description="Install the Proxmox CSI plugin, its Proxmox role, user and token, a default StorageClass and "
        "the example volume. Needs `network.hostAddresses` (or `apiUrl`): the plugin calls the Proxmox API from "
        "the lab.",
    )
    storage_class: DnsLabel = Field(default="proxmox", description="Name of the default StorageClass.")
    datastore: StorageId | None = Field(
        default=None,
        description="Proxmox storage the volumes are created on (it must hold disk images); unset: "
        "`proxmox.vmDatastore`.",
    )
    fs_type: FsType = Field(default="ext4", description="Filesystem of new volumes: `ext4` or `xfs`.")
    reclaim_policy: ReclaimPolicy = Field(
        default="Retain",
        description="What happens to a volume when its claim is deleted: `Retain` keeps the Proxmox disk (the "
        "data), `Delete` frees it.",
    )
    api_url: ProxmoxApiUrl | None = Field(
        default=None,
        description="The Proxmox API as the plugin reaches it from the lab (`https://host:8006/api2/json`); "
        "unset: the first `network.hostAddresses` entry.",
    )
    insecure_tls: bool = Field(
        default=False,
        strict=True,
        description="Skip verifying the Proxmox API's TLS certificate (Proxmox's own certificate is self-signed).",
    )


_SCHEDULE = re.compile(r"^(hourly|daily|weekly|([01][0-9]|2[0-3]):[0-5][0-9])$")
# A path on the client: absolute, no `..`, only characters a systemd unit and a shell take literally.
_CLIENT_PATH = re.compile(r"^(/[A-Za-z0-9._-]+)+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX = re.compile(r"^([A-Za-z0-9._-]+/)*$")
_ENDPOINT = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?$")
_REGION = re.compile(r"^[a-z0-9-]{0,32}$")
_KEY_TEXT = re.compile(r"^[\x21-\x7e]{1,256}$")  # printable, no spaces or quotes that an env file would mangle


# A credential: the stack file holds it as a `secure:` value (what `pulumi config set --secret` writes).
_SecretText = Annotated[
    str,
    WithJsonSchema(
        {
            "title": "secret string",
            "description": "A string, given as a secret: `{secure: ...}` in the stack file.",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {"secure": {"type": "string"}},
                    "required": ["secure"],
                    "additionalProperties": False,
                },
            ],
        }
    ),
]


class S3Target(_Model):
    """An S3-compatible bucket the client copies each snapshot to (with rclone)."""

    endpoint: str = Field(
        description="The service's URL, e.g. `https://s3.eu-central-1.amazonaws.com` or a MinIO at `http://nas:9000`."
    )
    bucket: str = Field(description="Bucket name (3 to 63 lowercase letters, digits, '.' or '-').")
    prefix: str = Field(
        default="", description="Folder in the bucket, ending in '/' (e.g. `homelab/`); empty: the top."
    )
    region: str = Field(default="", description="Region, where the service needs one; empty: the service's default.")
    access_key_id: _SecretText = Field(
        description="Access key id; give it as a secret (`pulumi config set --secret --path "
        "homelab:backup.target.s3.accessKeyId ...`)."
    )
    secret_access_key: _SecretText = Field(
        description="Secret access key; give it as a secret (`pulumi config set --secret --path "
        "homelab:backup.target.s3.secretAccessKey ...`)."
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if not _ENDPOINT.match(value):
            raise ValueError(f"{value[:80]!r} is not an http(s) URL of a host (and port)")
        return value.rstrip("/")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET.match(value) or ".." in value:
            raise ValueError(f"{value[:80]!r} is not an S3 bucket name (3 to 63 lowercase letters, digits, '.', '-')")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if len(value) > 200 or not _PREFIX.match(value) or "/../" in f"/{value}" or "/./" in f"/{value}":
            raise ValueError(
                f"{value[:80]!r} is not a folder prefix (names of letters, digits, '.', '_', '-', each ending in '/')"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError(f"{value[:80]!r} is not a region name (lowercase letters, digits and '-')")
        return value

    @field_validator("access_key_id", "secret_access_key")
    @classmethod
    def _key_text(cls, value: str) -> str:
        if not _KEY_TEXT.match(value):
            # Never echo a credential: say only what is wrong with it.
            raise ValueError("must be 1 to 256 printable characters without spaces")
        return value


class BackupTarget(_Model):
    """Where the client copies each snapshot off host: exactly one of `path` and `s3`."""

    path: str | None = Field(
        default=None,
        description="A directory on the client (e.g. an NFS share you mount there) the snapshots are copied to, "
        "with the same retention; never created by the program, so an unmounted share fails the copy.",
    )
    s3: S3Target | None = Field(default=None, description="An S3-compatible bucket the snapshots are copied to.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if len(value) > 200 or not _CLIENT_PATH.match(value) or any(p in (".", "..") for p in value.split("/")):
            raise ValueError(f"{value[:80]!r} is not an absolute path of plain names (letters, digits, '.', '_', '-')")
        if value.rstrip("/") in ("/var/lib/homelab", "/var/lib/homelab/etcd-backups"):
            raise ValueError(f"{value!r} is where the client keeps its own snapshots; a copy goes elsewhere")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> BackupTarget:
        if (self.path is None) == (self.s3 is None):
            raise ValueError("give exactly one of path and s3")
        return self


class BackupConfig(_Model):
    """etcd snapshots the client takes on a timer."""

    keep: int = Field(default=14, strict=True, ge=1, le=1000, description="Snapshots kept: the newest this many.")
    max_age_days: int = Field(
        default=30,
        strict=True,
        ge=1,
        le=3650,
        description="Snapshots older than this many days are removed, whatever `keep` says (the newest stays).",
    )
    schedule: str = Field(
        default="daily",
        description="When the timer runs: `hourly`, `daily`, `weekly`, or a time of day `HH:MM` (the client's clock).",
    )
    target: BackupTarget | None = Field(
        default=None, description="Where each snapshot is also copied, off the client; unset: kept on the client only."
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if not _SCHEDULE.match(value):
            raise ValueError(f"{value[:80]!r} is not hourly, daily, weekly or a time of day HH:MM")
        return value


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
    allow_destroy: list[DnsLabel] = Field(
        default=[],
        max_length=MAX_GUESTS_NAMED,
        description="Guests (by name in the running lab) that this `pulumi up` may delete or replace with their "
        "disks: a removed worker, a guest moved to another host or given another VM id. Anything else that would "
        "destroy a guest is refused.",
    )
    storage: StorageConfig = Field(
        default=_as_written({}), description="Persistent volumes: the Proxmox CSI plugin and a default StorageClass."
    )
    backup: BackupConfig = Field(
        default=_as_written({}), description="etcd snapshots the client takes on a timer, and where it copies them."
    )
