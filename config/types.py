"""Constrained scalar types shared by the stack config models.

Each type accepts only a string in the form it names, so YAML surprises
(an address written as a number, a bare `yes`) are reported, not coerced.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_SSH_KEY = re.compile(
    r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com)"
    r" [A-Za-z0-9+/]+={0,3}( \S.*)?$"
)
_BRIDGE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,14}$")


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not {what}")
    return value.strip()


def _ipv4_address(value: Any) -> ipaddress.IPv4Address:
    text = _string(value, "an IPv4 address")
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address") from None


def _ipv4_network(value: Any) -> ipaddress.IPv4Network:
    text = _string(value, "an IPv4 CIDR")
    if "/" not in text:
        raise ValueError(f"{text!r} is not an IPv4 CIDR (expected a.b.c.d/len)")
    try:
        return ipaddress.IPv4Network(text, strict=True)
    except ValueError as error:
        if "has host bits set" in str(error):
            network = ipaddress.IPv4Network(text, strict=False)
            raise ValueError(f"{text!r} has host bits set (did you mean {network}?)") from None
        raise ValueError(f"{text!r} is not an IPv4 CIDR") from None


def _ipv4_interface(value: Any) -> ipaddress.IPv4Interface:
    text = _string(value, "an IPv4 address with prefix length")
    if "/" not in text:
        raise ValueError(f"{text!r} needs a prefix length (e.g. {text}/24)")
    try:
        return ipaddress.IPv4Interface(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an IPv4 address with prefix length") from None


def _mac(value: Any) -> str:
    text = _string(value, "a MAC address")
    if not _MAC.match(text):
        raise ValueError(f"{text!r} is not a MAC address (expected six hex pairs, e.g. BC:24:11:00:00:01)")
    if int(text[:2], 16) & 1:
        raise ValueError(f"{text!r} is a multicast MAC address; a NIC needs a unicast one")
    return text.upper()


def _dns_label(value: Any) -> str:
    text = _string(value, "a name")
    if not _DNS_LABEL.match(text):
        raise ValueError(f"{text!r} is not a DNS label (lowercase letters, digits and '-', at most 63)")
    return text


def _dns_name(value: Any) -> str:
    text = _string(value, "a DNS name").rstrip(".")
    labels = text.split(".")
    if len(text) > 253 or not all(_DNS_LABEL.match(label) for label in labels):
        raise ValueError(f"{text!r} is not a DNS name")
    return text


def _bridge_name(value: Any) -> str:
    text = _string(value, "a bridge name")
    if not _BRIDGE.match(text):
        raise ValueError(f"{text!r} is not a Linux bridge name (at most 15 characters)")
    return text


def _ssh_public_key(value: Any) -> str:
    text = _string(value, "an SSH public key")
    if not _SSH_KEY.match(text):
        raise ValueError(f"{text[:40]!r} is not an OpenSSH public key line")
    return text


def _talos_version(value: str) -> str:
    from config.versions import check_talos_version

    return check_talos_version(value)


def _config_contract(value: str) -> str:
    from config.versions import check_config_contract

    return check_config_contract(value)


def _kubernetes_version(value: str) -> str:
    from config.versions import check_kubernetes_version

    return check_kubernetes_version(value)


Ipv4Address = Annotated[ipaddress.IPv4Address, BeforeValidator(_ipv4_address)]
Ipv4Network = Annotated[ipaddress.IPv4Network, BeforeValidator(_ipv4_network)]
Ipv4Interface = Annotated[ipaddress.IPv4Interface, BeforeValidator(_ipv4_interface)]
MacAddress = Annotated[str, BeforeValidator(_mac)]
DnsLabel = Annotated[str, BeforeValidator(_dns_label)]
DnsName = Annotated[str, BeforeValidator(_dns_name)]
BridgeName = Annotated[str, BeforeValidator(_bridge_name)]
SshPublicKey = Annotated[str, BeforeValidator(_ssh_public_key)]
TalosVersion = Annotated[str, AfterValidator(_talos_version)]
ConfigContract = Annotated[str, AfterValidator(_config_contract)]
KubernetesVersion = Annotated[str, AfterValidator(_kubernetes_version)]
VmId = Annotated[int, Field(strict=True, ge=100, le=999_999_999)]
