"""Cross-field rules of the stack config (DESIGN §5).

Each check returns problems as (path, message); `check_lab` runs them all so
a user sees every problem of a stack at once.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import NamedTuple

from config.guests import derive_mac, lab_guests, router_lan_mac
from config.models import LabConfig


class Problem(NamedTuple):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


Check = Callable[[LabConfig], Iterator[Problem]]


def _named_addresses(config: LabConfig) -> list[tuple[str, ipaddress.IPv4Address]]:
    """Every address handed to something on the LAN, with its config path."""
    named = [("network.router.address", config.network.router.address)]
    named += [(f"{guest.config_path}.address", guest.address) for guest in lab_guests(config)]
    if config.cluster.vip is not None:
        named.append(("cluster.vip", config.cluster.vip))
    named += [
        (f"network.hostAddresses.{host}", interface.ip) for host, interface in config.network.host_addresses.items()
    ]
    return named


def _duplicates(items: list[tuple[str, object]], what: str) -> Iterator[Problem]:
    first_seen: dict[object, str] = {}
    for path, value in items:
        if value in first_seen:
            yield Problem(path, f"{what} {value} is also used by {first_seen[value]}")
        else:
            first_seen[value] = path


def unique_identities(config: LabConfig) -> Iterator[Problem]:
    guests = lab_guests(config)
    router = config.network.router
    yield from _duplicates(
        [("network.router.name", router.name), *((f"{g.config_path}.name", g.name) for g in guests)], "name"
    )
    yield from _duplicates(_named_addresses(config), "address")  # type: ignore[arg-type]
    # A MAC derived from a duplicate name repeats the name problem: report only the name.
    names = [router.name, *(g.name for g in guests)]
    macs: list[tuple[str, object]] = [("network.router.mac", router_lan_mac(config))]
    macs += [
        (f"{g.config_path}.mac", g.mac)
        for index, g in enumerate(guests, start=1)
        if g.name not in names[:index] or g.mac != derive_mac(config.cluster.name, g.name)
    ]
    yield from _duplicates(macs, "MAC")
    yield from _duplicates(
        [("network.router.vmId", router.vm_id), *((f"{g.config_path}.vmId", g.vm_id) for g in guests)], "VM id"
    )


def addresses_on_lan(config: LabConfig) -> Iterator[Problem]:
    lan = config.network.cidr
    for path, address in _named_addresses(config):
        if address not in lan:
            yield Problem(path, f"{address} is outside network.cidr {lan}")
        elif address in (lan.network_address, lan.broadcast_address):
            yield Problem(path, f"{address} is the network or broadcast address of {lan}")
    for host, interface in config.network.host_addresses.items():
        if interface.network != lan:
            yield Problem(f"network.hostAddresses.{host}", f"{interface} is not in network.cidr {lan}")


def wan_side(config: LabConfig) -> Iterator[Problem]:
    router = config.network.router
    wan = router.wan_address.network
    if router.wan_gateway not in wan:
        yield Problem("network.router.wanGateway", f"{router.wan_gateway} is not in the WAN subnet {wan}")
    elif router.wan_gateway == router.wan_address.ip:
        yield Problem("network.router.wanGateway", f"{router.wan_gateway} is the router's own WAN address")
    if wan.overlaps(config.network.cidr):
        yield Problem("network.cidr", f"{config.network.cidr} overlaps the WAN subnet {wan}")
    if config.network.bridge == config.proxmox.wan_bridge:
        yield Problem(
            "network.bridge",
            f"{config.network.bridge} is proxmox.wanBridge, the host's uplink; the lab needs a bridge of its own "
            "(e.g. vmbr1)",
        )


def load_balancer_pool(config: LabConfig) -> Iterator[Problem]:
    pool = config.load_balancer.pool
    others = [
        ("network.cidr", config.network.cidr),
        ("the WAN subnet", config.network.router.wan_address.network),
        ("cluster.podCidr", config.cluster.pod_cidr),
        ("cluster.serviceCidr", config.cluster.service_cidr),
    ]
    for name, network in others:
        if pool.overlaps(network):
            yield Problem("loadBalancer.pool", f"{pool} overlaps {name} {network}")
    ingress = config.load_balancer.ingress_address
    if ingress not in pool:
        yield Problem("loadBalancer.ingressAddress", f"{ingress} is outside loadBalancer.pool {pool}")


def cluster_networks(config: LabConfig) -> Iterator[Problem]:
    cluster = config.cluster
    lan = config.network.cidr
    for path, network in (("cluster.podCidr", cluster.pod_cidr), ("cluster.serviceCidr", cluster.service_cidr)):
        if network.overlaps(lan):
            yield Problem(path, f"{network} overlaps network.cidr {lan}")
    if cluster.pod_cidr.overlaps(cluster.service_cidr):
        yield Problem("cluster.serviceCidr", f"{cluster.service_cidr} overlaps cluster.podCidr {cluster.pod_cidr}")


def control_plane_quorum(config: LabConfig) -> Iterator[Problem]:
    count = len(config.cluster.control_planes)
    if count % 2 == 0:
        yield Problem(
            "cluster.controlPlanes",
            f"{count} control planes: use an odd number (1, 3 or 5) so etcd keeps quorum",
        )
    elif count > 1 and config.cluster.vip is None:
        yield Problem("cluster.vip", f"required with {count} control planes (a free address in network.cidr)")


def proxmox_placement(config: LabConfig) -> Iterator[Problem]:
    hosts = config.proxmox.nodes
    yield from _duplicates([(f"proxmox.nodes[{i}]", host) for i, host in enumerate(hosts)], "host")
    placed = [("network.router.proxmoxNode", config.network.router.proxmox_node)]
    placed += [(f"{g.config_path}.proxmoxNode", g.proxmox_node) for g in lab_guests(config)]
    for path, host in placed:
        if host is not None and host not in hosts:
            yield Problem(path, f"{host!r} is not one of proxmox.nodes {hosts}")
    for mapping in ("bridgePorts", "hostAddresses"):
        keys = config.network.bridge_ports if mapping == "bridgePorts" else config.network.host_addresses
        for host in keys:
            if host not in hosts:
                yield Problem(f"network.{mapping}.{host}", f"{host!r} is not one of proxmox.nodes {hosts}")


def bridges_joined(config: LabConfig) -> Iterator[Problem]:
    from config.guests import hosts_in_use

    used = hosts_in_use(config)
    if len(used) > 1:
        for host in used:
            if not config.network.bridge_ports.get(host):
                yield Problem(
                    f"network.bridgePorts.{host}",
                    f"guests run on {len(used)} hosts ({', '.join(used)}): each host's {config.network.bridge} "
                    "needs a physical port so the lab bridges form one segment",
                )


def dynamic_range(config: LabConfig) -> Iterator[Problem]:
    span = config.network.dynamic_range
    if span is None:
        return
    lan = config.network.cidr
    for field, address in (("start", span.start), ("end", span.end)):
        if address not in lan:
            yield Problem(f"network.dynamicRange.{field}", f"{address} is outside network.cidr {lan}")
    if span.start > span.end:
        yield Problem("network.dynamicRange", f"start {span.start} is after end {span.end}")
        return
    for path, address in _named_addresses(config):
        if span.start <= address <= span.end:
            yield Problem("network.dynamicRange", f"{span.start}-{span.end} contains {path} {address}")


CHECKS: tuple[Check, ...] = (
    unique_identities,
    addresses_on_lan,
    wan_side,
    load_balancer_pool,
    cluster_networks,
    control_plane_quorum,
    proxmox_placement,
    bridges_joined,
    dynamic_range,
)


def check_lab(config: LabConfig) -> list[Problem]:
    return [problem for check in CHECKS for problem in check(config)]
