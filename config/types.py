"""Constrained scalar types shared by the stack config models.

Each type accepts only a string in the form it names, so YAML surprises (an
address written as a number, a bare `yes`) are reported, not coerced, and only
values that make sense for what they configure: no loopback, multicast,
link-local, unspecified or broadcast address where a host or subnet is meant,
no all-zero or multicast MAC, no IP address as a host name. Each carries the
title and description the configuration reference and the JSON schema show.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

from config.messages import describe, quoted, shorten
from config.versions import ConfigContract, KubernetesVersion, TalosVersion

_DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_MAC = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
_SSH_KEY = re.compile(
    r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( \S.*)?"
)
# Proxmox's `pve-iface` format (pve-common PVE::JSONSchema), within Linux's IFNAMSIZ (15 characters).
_INTERFACE = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,20}(\.[0-9]+)?")
IFNAMSIZ = 15
# Proxmox's storage id (pve-storage PVE::Storage::Plugin::parse_storage_id).
_STORAGE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]")
# Proxmox's SDN zone and VNet ids (bpg fwprovider/validators/sdn.go SDNID, pve-network's `pve-sdn-*-id`).
_SDN_ID = re.compile(r"[a-z][a-z0-9]{0,6}[a-z0-9]")
SDN_ID_LENGTH = 8
_DISK = re.compile(r"/dev/[a-z][a-z0-9]*(/[a-z0-9][a-z0-9_-]*)*")
MAX_SSH_KEY_LENGTH = 16_384

# Ranges that are never a host or a lab subnet (RFC 6890), by what they are.
SPECIAL_NETWORKS = (
    (ipaddress.IPv4Network("0.0.0.0/8"), "unspecified"),
    (ipaddress.IPv4Network("127.0.0.0/8"), "loopback"),
    (ipaddress.IPv4Network("169.254.0.0/16"), "link-local"),
    (ipaddress.IPv4Network("224.0.0.0/4"), "multicast"),
    (ipaddress.IPv4Network("240.0.0.0/4"), "reserved (or broadcast)"),
)
ANYWHERE = ipaddress.IPv4Network("0.0.0.0/0")


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected {what}, got {describe(value)}")
    return value.strip()


def _special(network: ipaddress.IPv4Network) -> str | None:
    return next((kind for block, kind in SPECIAL_NETWORKS if network.overlaps(block)), None)


def _host_address(value: Any) -> ipaddress.IPv4Address:
    text = _string(value, "an IPv4 address")
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError(f"{quoted(text)} is not an IPv4 address") from None
    kind = _special(ipaddress.IPv4Network(address))
    if kind is not None:
        article = "an" if kind[0] in "aeiou" else "a"
        raise ValueError(f"{address} is {article} {kind} address, not one a host can have")
    return address


def _network(value: Any, *, anywhere: bool = False) -> ipaddress.IPv4Network:
    text = _string(value, "an IPv4 CIDR")
    if "/" not in text:
        raise ValueError(f"{quoted(text)} is not an IPv4 CIDR (expected a.b.c.d/len)")
    try:
        network = ipaddress.IPv4Network(text, strict=True)
    except ValueError as error:
        if "has host bits set" in str(error):
            network = ipaddress.IPv4Network(text, strict=False)
            raise ValueError(f"{quoted(text)} has host bits set (did you mean {network}?)") from None
        raise ValueError(f"{quoted(text)} is not an IPv4 CIDR") from None
    kind = None if anywhere and network == ANYWHERE else _special(network)
    if kind is not None:
        raise ValueError(f"{network} overlaps the {kind} range, not a subnet of hosts")
    return network


def _source_network(value: Any) -> ipaddress.IPv4Network:
    return _network(value, anywhere=True)


def _interface(value: Any) -> ipaddress.IPv4Interface:
    text = _string(value, "an IPv4 address with prefix length")
    if "/" not in text:
        raise ValueError(f"{quoted(text)} needs a prefix length (e.g. {shorten(text)}/24)")
    try:
        interface = ipaddress.IPv4Interface(text)
    except ValueError:
        raise ValueError(f"{quoted(text)} is not an IPv4 address with prefix length") from None
    _host_address(str(interface.ip))
    network = interface.network
    if network.prefixlen <= 30 and interface.ip in (network.network_address, network.broadcast_address):
        raise ValueError(f"{interface} is the network or broadcast address of {network}, not one a host can have")
    return interface


def _mac(value: Any) -> str:
    text = _string(value, "a MAC address")
    if not _MAC.fullmatch(text):
        raise ValueError(f"{quoted(text)} is not a MAC address (expected six hex pairs, e.g. BC:24:11:00:00:01)")
    if int(text[:2], 16) & 1:
        raise ValueError(f"{quoted(text)} is a multicast MAC address; a NIC needs a unicast one")
    if int(text.replace(":", ""), 16) == 0:
        raise ValueError(f"{quoted(text)} is the all-zero MAC address; a NIC needs a real one")
    return text.upper()


def _dns_label(value: Any) -> str:
    text = _string(value, "a name")
    if not _DNS_LABEL.fullmatch(text):
        raise ValueError(f"{quoted(text)} is not a DNS label (lowercase letters, digits and '-', at most 63)")
    return text


def _dns_name(value: Any) -> str:
    text = _string(value, "a DNS name")
    name = text.removesuffix(".")  # one trailing dot: the same name, written absolute
    labels = name.split(".")
    if len(name) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{quoted(text)} is not a DNS name")
    if labels[-1].isdigit():
        raise ValueError(f"{quoted(text)} is an IP address, not a host name (an Ingress host must be a DNS name)")
    return name


def _interface_name(value: Any) -> str:
    text = _string(value, "an interface name")
    if len(text) > IFNAMSIZ:
        raise ValueError(f"{quoted(text)} is {len(text)} characters; Linux interface names have at most {IFNAMSIZ}")
    if not _INTERFACE.fullmatch(text):
        raise ValueError(
            f"{quoted(text)} is not an interface name (a letter, then letters, digits or '_'; optionally .VLAN)"
        )
    return text


def _storage_id(value: Any) -> str:
    text = _string(value, "a Proxmox storage id")
    if not _STORAGE_ID.fullmatch(text):
        raise ValueError(
            f"{quoted(text)} is not a Proxmox storage id (a letter, then letters, digits, '-', '_' or '.', "
            "ending in a letter or digit)"
        )
    return text


def _sdn_id(value: Any) -> str:
    text = _string(value, "a Proxmox SDN id")
    if not _SDN_ID.fullmatch(text):
        raise ValueError(
            f"{quoted(text)} is not a Proxmox SDN id (2 to {SDN_ID_LENGTH} lowercase letters or digits, "
            "starting with a letter)"
        )
    return text


def _disk_path(value: Any) -> str:
    text = _string(value, "a disk path")
    if not _DISK.fullmatch(text):
        raise ValueError(f"{quoted(text)} is not a disk device path (e.g. /dev/sda, /dev/nvme0n1)")
    return text


def _ssh_public_key(value: Any) -> str:
    text = _string(value, "an SSH public key")
    if len(text) > MAX_SSH_KEY_LENGTH or not _SSH_KEY.fullmatch(text):
        raise ValueError(f"{quoted(text[:40])} is not an OpenSSH public key line")
    return text


def _choice(what: str, options: tuple[str, ...]) -> Any:
    def check(value: Any) -> str:
        text = _string(value, what)
        if text not in options:
            raise ValueError(f"{quoted(text)} is not one of {', '.join(options)}")
        return text

    return check


_API_URL = re.compile(r"https://[^/\s:]+(:[0-9]{1,5})?/api2/json")


def _api_url(value: Any) -> str:
    text = _string(value, "a URL")
    if not _API_URL.fullmatch(text):
        raise ValueError(f"{quoted(shorten(text))} is not a Proxmox API URL (https://host:8006/api2/json)")
    return text


def _schema(title: str, description: str, **extra: Any) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "title": title, "description": description, **extra})


Ipv4Address = Annotated[
    ipaddress.IPv4Address,
    BeforeValidator(_host_address),
    _schema(
        "IPv4 address",
        "A host's address: not loopback, multicast, link-local, unspecified or broadcast.",
        format="ipv4",
    ),
]
Ipv4Network = Annotated[
    ipaddress.IPv4Network,
    BeforeValidator(_network),
    _schema("IPv4 CIDR", "A subnet a.b.c.d/len without host bits, clear of the special ranges (RFC 6890)."),
]
SourceNetwork = Annotated[
    ipaddress.IPv4Network,
    BeforeValidator(_source_network),
    _schema("IPv4 source CIDR", "A source range a.b.c.d/len without host bits."),
]
Ipv4Interface = Annotated[
    ipaddress.IPv4Interface,
    BeforeValidator(_interface),
    _schema("IPv4 address/prefix", "A host's address with its subnet's prefix length, e.g. 192.168.0.200/24."),
]
MacAddress = Annotated[
    str,
    BeforeValidator(_mac),
    _schema("MAC address", "Six hex pairs, unicast and not all zero.", pattern=f"^{_MAC.pattern}$"),
]
DnsLabel = Annotated[
    str,
    BeforeValidator(_dns_label),
    _schema("DNS label", "Lowercase letters, digits and '-', at most 63.", pattern=f"^{_DNS_LABEL.pattern}$"),
]
DnsName = Annotated[
    str, BeforeValidator(_dns_name), _schema("DNS name", "Dot-separated DNS labels, not an IP address.")
]
InterfaceName = Annotated[
    str,
    BeforeValidator(_interface_name),
    _schema(
        "interface name",
        "A Linux network interface, at most 15 characters (e.g. vmbr1, enp2s0, eno1.20).",
        maxLength=IFNAMSIZ,
    ),
]
StorageId = Annotated[
    str,
    BeforeValidator(_storage_id),
    _schema(
        "Proxmox storage id",
        "A storage as named in Proxmox (Datacenter > Storage).",
        pattern=f"^{_STORAGE_ID.pattern}$",
    ),
]
SdnId = Annotated[
    str,
    BeforeValidator(_sdn_id),
    _schema(
        "Proxmox SDN id",
        f"A Proxmox SDN zone or VNet id: 2 to {SDN_ID_LENGTH} lowercase letters or digits, starting with a letter.",
        pattern=f"^{_SDN_ID.pattern}$",
    ),
]
DiskPath = Annotated[str, BeforeValidator(_disk_path), _schema("disk path", "A block device under /dev.")]
SshPublicKey = Annotated[
    str, BeforeValidator(_ssh_public_key), _schema("SSH public key line", "One line of an authorized_keys file.")
]
VmId = Annotated[
    int,
    Field(
        strict=True,
        ge=100,
        le=999_999_999,
        title="Proxmox VM id",
        description="An integer from 100 (lower ids are reserved) to 999999999, as Proxmox allows.",
    ),
]

FS_TYPES = ("ext4", "xfs")
RECLAIM_POLICIES = ("Retain", "Delete")
FsType = Annotated[
    str,
    BeforeValidator(_choice("a filesystem", FS_TYPES)),
    _schema("filesystem", "A filesystem the CSI plugin formats volumes with: ext4 or xfs.", enum=list(FS_TYPES)),
]
ReclaimPolicy = Annotated[
    str,
    BeforeValidator(_choice("a reclaim policy", RECLAIM_POLICIES)),
    _schema("reclaim policy", "A StorageClass reclaim policy: Retain or Delete.", enum=list(RECLAIM_POLICIES)),
]
ProxmoxApiUrl = Annotated[
    str,
    BeforeValidator(_api_url),
    _schema("Proxmox API URL", "The Proxmox API, https://host:port/api2/json.", pattern=f"^{_API_URL.pattern}$"),
]

# Every type above, for the configuration reference's table of types.
SCHEMA_TYPES = (
    Ipv4Address,
    Ipv4Interface,
    Ipv4Network,
    SourceNetwork,
    MacAddress,
    DnsLabel,
    DnsName,
    InterfaceName,
    StorageId,
    SdnId,
    DiskPath,
    SshPublicKey,
    TalosVersion,
    ConfigContract,
    KubernetesVersion,
    VmId,
    FsType,
    ReclaimPolicy,
    ProxmoxApiUrl,
)
