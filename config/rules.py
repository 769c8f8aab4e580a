"""Cross-field rules of the stack config (DESIGN §5).

Each check returns problems as (path, message); `check_lab` runs them all so
a user sees every problem of a stack at once. A check's docstring is its
summary in the configuration reference (config.reference renders it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

from pydantic import TypeAdapter, ValidationError

from config.fabric import VXLAN_OVERHEAD, lab_mtu
from config.guests import Role, derive_mac, hosts_in_use, lab_guests, router_lan_mac
from config.messages import Problem
from config.models import MAX_VLAN, LabConfig, SdnConfig
from config.placement import quorum
from config.types import SdnId

Check = Callable[[LabConfig], Iterator[Problem]]

NODE_POD_PREFIX = 24  # Kubernetes' default node CIDR mask for IPv4 (kube-controller-manager)
SERVICE_PREFIXES = (12, 28)
# Where admins can be: the home LAN (private space, RFC 1918) or a VPN in shared space (RFC 6598, e.g. Tailscale).
ADMIN_SPACE = tuple(
    ipaddress.IPv4Network(network) for network in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)
MIN_LAB_MTU = 1280  # IPv6's minimum link MTU (RFC 8200); IPv4 and flannel's own VXLAN need room too


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


def _hosts(hosts: list[str]) -> str:
    return "[" + ", ".join(hosts) + "]"


def unique_identities(config: LabConfig) -> Iterator[Problem]:
    """Names, LAN addresses (router, guests, `cluster.vip`, `network.hostAddresses`), MACs (given or derived) and
    VM ids are unique across the router and every guest."""
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
    """Every LAN address (router, guests, `cluster.vip`) lies in `network.cidr` and is neither its network nor its
    broadcast address; every `network.hostAddresses` entry is an address of `network.cidr` with its prefix length."""
    lan = config.network.cidr
    hosts = {f"network.hostAddresses.{host}": interface for host, interface in config.network.host_addresses.items()}
    for path, address in _named_addresses(config):
        if path in hosts:
            if hosts[path].network != lan:
                yield Problem(path, f"{hosts[path]} is not in network.cidr {lan}")
        elif address not in lan:
            yield Problem(path, f"{address} is outside network.cidr {lan}")
        elif address in (lan.network_address, lan.broadcast_address):
            yield Problem(path, f"{address} is the network or broadcast address of {lan}")


def wan_side(config: LabConfig) -> Iterator[Problem]:
    """`network.router.wanGateway` is a host of the WAN subnet of `network.router.wanAddress` (not its network or
    broadcast address) other than the router; `network.cidr` does not overlap the WAN subnet; `network.bridge` is
    not `proxmox.wanBridge`, and neither bridge is one of `network.bridgePorts` (that would join the home LAN to
    the lab)."""
    router = config.network.router
    wan = router.wan_address.network
    gateway = router.wan_gateway
    if gateway not in wan:
        yield Problem("network.router.wanGateway", f"{gateway} is not in the WAN subnet {wan}")
    elif gateway == router.wan_address.ip:
        yield Problem("network.router.wanGateway", f"{gateway} is the router's own WAN address")
    elif wan.prefixlen <= 30 and gateway in (wan.network_address, wan.broadcast_address):
        yield Problem("network.router.wanGateway", f"{gateway} is the network or broadcast address of {wan}")
    if wan.overlaps(config.network.cidr):
        yield Problem("network.cidr", f"{config.network.cidr} overlaps the WAN subnet {wan}")
    if config.network.bridge == config.proxmox.wan_bridge:
        yield Problem(
            "network.bridge",
            f"{config.network.bridge} is proxmox.wanBridge, the host's uplink; the lab needs a bridge of its own "
            "(e.g. vmbr1)",
        )
    bridges = {
        config.network.bridge: "network.bridge, the lab bridge itself",
        config.proxmox.wan_bridge: "proxmox.wanBridge: enslaving the uplink would join the home LAN to the lab",
    }
    for host, ports in config.network.bridge_ports.items():
        for index, port in enumerate(ports):
            if port in bridges:
                yield Problem(f"network.bridgePorts.{host}[{index}]", f"{port} is {bridges[port]}")


def admin_networks(config: LabConfig) -> Iterator[Problem]:
    """Each of `network.adminCidrs` lies in private space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or
    100.64.0.0/10 (VPNs), never in the internet's, and overlaps neither `network.cidr` nor `loadBalancer.pool`:
    admins reach the lab through the router's WAN side."""
    lab, pool = config.network.cidr, config.load_balancer.pool
    # A lab or pool overlapping the WAN subnet is one mistake, reported once (`wan_side`, `load_balancer_pool`).
    wan = config.network.router.wan_address.network
    lab_on_wan, pool_on_wan = lab.overlaps(wan), pool.overlaps(wan)
    for index, cidr in enumerate(config.network.admin_cidrs):
        path = f"network.adminCidrs[{index}]"
        if not any(cidr.subnet_of(space) for space in ADMIN_SPACE):
            yield Problem(
                path,
                f"{cidr} is not private space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16) or 100.64.0.0/10; "
                "admins come from the home LAN or a VPN, never the internet",
            )
        elif cidr.overlaps(lab) and not lab_on_wan:
            yield Problem(path, f"{cidr} overlaps network.cidr {lab}; admins reach the lab from the WAN side")
        elif cidr.overlaps(pool) and not pool_on_wan:
            yield Problem(path, f"{cidr} overlaps loadBalancer.pool {pool}; admins reach the lab from the WAN side")


def dns_forwarders(config: LabConfig) -> Iterator[Problem]:
    """No `network.upstreamDns` server is the router itself (its LAN or WAN address): dnsmasq would ask itself."""
    router = config.network.router
    own = {router.address: "network.router.address", router.wan_address.ip: "network.router.wanAddress"}
    for index, server in enumerate(config.network.upstream_dns):
        if server in own:
            yield Problem(f"network.upstreamDns[{index}]", f"{server} is the router itself ({own[server]})")


def load_balancer_pool(config: LabConfig) -> Iterator[Problem]:
    """`loadBalancer.pool` overlaps none of `network.cidr`, the WAN subnet, `cluster.podCidr` and
    `cluster.serviceCidr`; `loadBalancer.ingressAddress` lies in the pool."""
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
    """`cluster.podCidr` and `cluster.serviceCidr` overlap neither `network.cidr`, the WAN subnet nor each other;
    the pod network holds a /24 for every Talos node; the service network is /12 (the API server's limit) to /28
    (its tenth address is the cluster DNS)."""
    cluster = config.cluster
    wan = config.network.router.wan_address.network
    for path, network in (("cluster.podCidr", cluster.pod_cidr), ("cluster.serviceCidr", cluster.service_cidr)):
        for name, other in (("network.cidr", config.network.cidr), ("the WAN subnet", wan)):
            if network.overlaps(other):
                yield Problem(path, f"{network} overlaps {name} {other}")
    nodes = len(cluster.control_planes) + len(cluster.workers)
    prefix = cluster.pod_cidr.prefixlen
    node_subnets = 2 ** (NODE_POD_PREFIX - prefix) if prefix <= NODE_POD_PREFIX else 0
    if node_subnets < nodes:
        yield Problem(
            "cluster.podCidr",
            f"{cluster.pod_cidr} holds {node_subnets} node pod networks (/{NODE_POD_PREFIX} each), fewer than the "
            f"{nodes} Talos nodes",
        )
    prefix = cluster.service_cidr.prefixlen
    if not SERVICE_PREFIXES[0] <= prefix <= SERVICE_PREFIXES[1]:
        yield Problem(
            "cluster.serviceCidr",
            f"{cluster.service_cidr} is a /{prefix}; a service network is /{SERVICE_PREFIXES[0]} to "
            f"/{SERVICE_PREFIXES[1]}",
        )
    if cluster.pod_cidr.overlaps(cluster.service_cidr):
        yield Problem("cluster.serviceCidr", f"{cluster.service_cidr} overlaps cluster.podCidr {cluster.pod_cidr}")


def control_plane_quorum(config: LabConfig) -> Iterator[Problem]:
    """`cluster.controlPlanes` has 1, 3 or 5 entries, an odd number so etcd keeps quorum; more than one needs
    `cluster.vip`."""
    count = len(config.cluster.control_planes)
    if count not in (1, 3, 5):
        yield Problem(
            "cluster.controlPlanes", f"{count} control planes: use 1, 3 or 5 (an odd number keeps etcd quorum)"
        )
    elif count > 1 and config.cluster.vip is None:
        yield Problem("cluster.vip", f"required with {count} control planes (a free address in network.cidr)")


def proxmox_placement(config: LabConfig) -> Iterator[Problem]:
    """`proxmox.nodes` has no duplicates; every `proxmoxNode` and every key of `network.bridgePorts` and
    `network.hostAddresses` is one of `proxmox.nodes`."""
    hosts = config.proxmox.nodes
    yield from _duplicates([(f"proxmox.nodes[{i}]", host) for i, host in enumerate(hosts)], "host")
    placed = [("network.router.proxmoxNode", config.network.router.proxmox_node)]
    placed += [(f"{g.config_path}.proxmoxNode", g.proxmox_node) for g in lab_guests(config)]
    for path, host in placed:
        if host is not None and host not in hosts:
            yield Problem(path, f"{host} is not one of proxmox.nodes {_hosts(hosts)}")
    for mapping in ("bridgePorts", "hostAddresses"):
        keys = config.network.bridge_ports if mapping == "bridgePorts" else config.network.host_addresses
        for host in keys:
            if host not in hosts:
                yield Problem(f"network.{mapping}.{host}", f"{host} is not one of proxmox.nodes {_hosts(hosts)}")


def control_plane_spread(config: LabConfig) -> Iterator[Problem]:
    """In a lab of more than one host, no host runs a quorum of several control planes: the loss of any one host
    leaves etcd a majority (3 control planes need 3 hosts; 5 need 3)."""
    control_planes = [g for g in lab_guests(config) if g.role is Role.CONTROL_PLANE]
    count = len(control_planes)
    if len(config.proxmox.nodes) < 2 or count < 2:
        return
    needed = quorum(count)
    for host in dict.fromkeys(config.proxmox.nodes):
        names = [g.name for g in control_planes if g.proxmox_node == host]
        if len(names) >= needed:
            yield Problem(
                "cluster.controlPlanes",
                f"{host} would run {len(names)} of the {count} control planes ({', '.join(names)}): its loss leaves "
                f"{count - len(names)}, short of etcd's quorum of {needed}; spread them over more hosts "
                f"(at most {needed - 1} on each; mind `proxmoxNode`)",
            )


def bridges_joined(config: LabConfig) -> Iterator[Problem]:
    """With `network.fabric` `bridge`, when the router and guests run on more than one host, every host in use has
    `network.bridgePorts.<host>`, so the lab bridges form one segment."""
    used = hosts_in_use(config)
    if config.network.fabric == "bridge" and len(used) > 1:
        for host in used:
            if not config.network.bridge_ports.get(host):
                yield Problem(
                    f"network.bridgePorts.{host}",
                    f"guests run on {len(used)} hosts ({', '.join(used)}): each host's {config.network.bridge} "
                    "needs a physical port so the lab bridges form one segment",
                )


def _sdn_id(path: str, value: str) -> Iterator[Problem]:
    try:
        TypeAdapter(SdnId).validate_python(value)
    except ValidationError as error:
        yield Problem(path, str(error.errors()[0]["msg"]).removeprefix("Value error, "))


def fabric_settings(config: LabConfig) -> Iterator[Problem]:
    """`network.sdn` is set exactly when `network.fabric` is `vxlan` or `vlan`; then `network.bridge` is an SDN
    id (the VNet), `network.bridgePorts` and `network.hostAddresses` are empty, and the lab MTU is at least 1280
    (IPv6's minimum). `vxlan`: every host in use has an address in `network.sdn.peers`, each one of
    `proxmox.nodes`, unique and outside `network.cidr`; no `uplink`. `vlan`: a tag up to 4094; no `peers`."""
    network = config.network
    sdn = network.sdn
    if network.fabric == "bridge":
        if sdn is not None:
            yield Problem("network.sdn", "only with network.fabric vxlan or vlan (the fabric is bridge)")
        return
    if sdn is None:
        yield Problem("network.sdn", f"required with network.fabric {network.fabric} (at least its tag)")
        return
    yield from _sdn_id("network.bridge", network.bridge)
    for mapping, given in (("bridgePorts", network.bridge_ports), ("hostAddresses", network.host_addresses)):
        if given:
            yield Problem(f"network.{mapping}", f"only with network.fabric bridge (the fabric is {network.fabric})")
    if lab_mtu(network) < MIN_LAB_MTU:
        yield Problem(
            "network.underlayMtu",
            f"{network.underlay_mtu} leaves the lab {lab_mtu(network)} bytes after VXLAN's {VXLAN_OVERHEAD}; "
            f"the lab needs at least {MIN_LAB_MTU}",
        )
    yield from (_vlan_settings if network.fabric == "vlan" else _vxlan_settings)(config, sdn)


def _vlan_settings(config: LabConfig, sdn: SdnConfig) -> Iterator[Problem]:
    network = config.network
    if sdn.tag > MAX_VLAN:
        yield Problem("network.sdn.tag", f"{sdn.tag} is more than the maximum VLAN id {MAX_VLAN}")
    if sdn.peers:
        yield Problem("network.sdn.peers", "only with network.fabric vxlan")
    if sdn.uplink == network.bridge:
        yield Problem("network.sdn.uplink", f"{sdn.uplink} is network.bridge, the VNet itself")


def _vxlan_settings(config: LabConfig, sdn: SdnConfig) -> Iterator[Problem]:
    network = config.network
    if sdn.uplink is not None:
        yield Problem("network.sdn.uplink", "only with network.fabric vlan")
    hosts = config.proxmox.nodes
    for host, address in sdn.peers.items():
        if host not in hosts:
            yield Problem(f"network.sdn.peers.{host}", f"{host} is not one of proxmox.nodes {_hosts(hosts)}")
        elif address in network.cidr:
            yield Problem(
                f"network.sdn.peers.{host}",
                f"{address} is in network.cidr {network.cidr}: the underlay is the hosts' management network",
            )
    yield from _duplicates([(f"network.sdn.peers.{h}", a) for h, a in sdn.peers.items()], "address")
    for host in hosts_in_use(config):
        if host not in sdn.peers:
            yield Problem(
                f"network.sdn.peers.{host}", f"required: {host} runs a guest, the VXLAN zone needs its address"
            )


def dynamic_range(config: LabConfig) -> Iterator[Problem]:
    """`network.dynamicRange`, when set, lies in `network.cidr` (neither end its network or broadcast address),
    starts no later than it ends and contains no address given to the router, a guest, the VIP or a host."""
    span = config.network.dynamic_range
    if span is None:
        return
    lan = config.network.cidr
    for field, address in (("start", span.start), ("end", span.end)):
        if address not in lan:
            yield Problem(f"network.dynamicRange.{field}", f"{address} is outside network.cidr {lan}")
        elif address in (lan.network_address, lan.broadcast_address):
            yield Problem(f"network.dynamicRange.{field}", f"{address} is the network or broadcast address of {lan}")
    if span.start > span.end:
        yield Problem("network.dynamicRange", f"start {span.start} is after end {span.end}")
        return
    for path, address in _named_addresses(config):
        if span.start <= address <= span.end:
            yield Problem("network.dynamicRange", f"{span.start}-{span.end} contains {path} {address}")


def storage_reachable(config: LabConfig) -> Iterator[Problem]:
    """With `storage.enabled`, the plugin has a Proxmox API to call from the lab (`storage.apiUrl` or a
    `network.hostAddresses` entry), and no guest has the id its volumes are owned by (9999): Proxmox frees a
    VM's own volumes when it destroys the VM."""
    from config.storage import VOLUME_OWNER_VM_ID, plugin_api_url

    if not config.storage.enabled:
        return
    if plugin_api_url(config) is None:
        yield Problem(
            "storage.apiUrl",
            "storage is enabled but the plugin cannot reach Proxmox from the lab: give a host an address on the "
            "lab bridge (network.hostAddresses) or set storage.apiUrl",
        )
    owners = [("network.router.vmId", config.network.router.vm_id)]
    owners += [(f"{guest.config_path}.vmId", guest.vm_id) for guest in lab_guests(config)]
    for path, vm_id in owners:
        if vm_id == VOLUME_OWNER_VM_ID:
            yield Problem(path, f"{vm_id} owns the storage plugin's volumes; deleting this guest would free them")


CHECKS: tuple[Check, ...] = (
    unique_identities,
    addresses_on_lan,
    wan_side,
    admin_networks,
    dns_forwarders,
    load_balancer_pool,
    cluster_networks,
    control_plane_quorum,
    proxmox_placement,
    control_plane_spread,
    fabric_settings,
    bridges_joined,
    dynamic_range,
    storage_reachable,
)


def check_lab(config: LabConfig) -> list[Problem]:
    return [problem for check in CHECKS for problem in check(config)]
