"""Building a `Lab` from a stack's plan files, step by step; `Namespaces.close` undoes all of it.

The router is configured only from `router/network.json`, `router/nftables.nft` and
`router/dnsmasq.conf`; the guests' MACs come from `resources.json`; the laptop runs
the route commands the plan prints. The gateway also owns the upstream DNS
addresses (a DNS stand-in that knows one probe name) and, like a home router with
static routes, runs the same route commands so the outsider can reach the lab.
"""

from __future__ import annotations

import ipaddress
import shlex
from typing import Any

from config.models import LabConfig
from tests.network.dhcp import DhcpClients
from tests.network.inputs import PlanFiles
from tests.network.lab import Lab, StandIns
from tests.network.netns import CommandError, Namespaces

MANAGEMENT_PORTS = (22, 50000, 6443)  # SSH, Talos API, Kubernetes API
SITE_PORTS = (80, 443)
HOME_PORTS = (22, 8006)  # SSH, the Proxmox API
UNLISTED_PORT = 10250  # kubelet: something listens there, and the WAN must still be refused
# The outside segment (the internet): the first candidate clear of the config. Public space next
# to the benchmarking range, never a special-purpose one: the router refuses those to the lab
# (private, CGNAT, documentation, ...), and its DNS rebinding protection drops answers that
# point at most of them, as it must. In a namespace no packet of it leaves the machine.
OUTSIDE_CANDIDATES = ("198.20.0.0/24", "198.20.1.0/24", "198.21.0.0/24")
# Networks behind the home gateway that are not the internet (a NAS VLAN, a VPN, the provider's
# CGNAT, a metadata service): one address of each on the gateway, which answers HTTP on all.
ELSEWHERE_CANDIDATES = {
    "private 172.16/12": ("172.31.77.7", "172.30.0.7"),
    "private 10/8": ("10.123.45.6", "10.99.0.6"),
    "private 192.168/16": ("192.168.222.2", "192.168.223.2"),
    "CGNAT 100.64/10": ("100.100.100.100", "100.72.0.1"),
    "link-local 169.254/16": ("169.254.169.254",),
    "benchmarking 198.18/15": ("198.18.0.7", "198.19.0.7"),
}
SWITCH = "switch"
LAB_BRIDGE, WAN_BRIDGE, OUTSIDE_BRIDGE = "lab", "wan", "outside"


def build_lab(stack: str, config: LabConfig, plan: PlanFiles, ns: Namespaces) -> Lab:
    lab = Lab(stack, config, plan, ns, stand_ins(config), DhcpClients(ns.workdir / "dhcp"))
    switch = ns.add(SWITCH)
    for bridge in (LAB_BRIDGE, WAN_BRIDGE, OUTSIDE_BRIDGE):
        ns.ip(switch, "link", "add", bridge, "type", "bridge")
        ns.ip(switch, "link", "set", bridge, "up")
    _router(lab)
    _gateway(lab)
    _host(lab, "laptop", WAN_BRIDGE, lab.stand_ins.laptop, config.network.router.wan_address.network)
    for command in plan.laptop_routes:  # and no default route: the printed routes must suffice
        run_printed(lab, lab.laptop, command)
    _host(lab, "home", WAN_BRIDGE, lab.stand_ins.home, config.network.router.wan_address.network)
    for role in ("outsider", "upstream"):
        host = _host(lab, role, OUTSIDE_BRIDGE, getattr(lab.stand_ins, role), lab.stand_ins.outside)
        ns.ip(host, "route", "add", "default", "via", str(lab.stand_ins.gateway_outside))
    _guests(lab)
    _services(lab)
    return lab


def _router(lab: Lab) -> None:
    """Exactly what network.json, nftables.nft and dnsmasq.conf say; nothing else."""
    ns, network, macs = lab.ns, lab.plan.network, lab.plan.router_macs
    router = ns.add("router")
    for side, bridge in (("wan", WAN_BRIDGE), ("lan", LAB_BRIDGE)):
        interface = network[side]["interface"]
        ns.connect(ns.name(SWITCH), bridge, router, interface, macs.get(interface))
        ns.ip(router, "address", "add", network[side]["address"], "dev", interface)
    start_router(lab, ns, router, network)


def start_router(lab: Lab, ns: Namespaces, router: str, network: dict[str, Any]) -> None:
    """The router's routes and sysctls from network.json, then its ruleset and dnsmasq."""
    ns.ip(router, "route", "add", "default", "via", network["wan"]["gateway"])
    for route in network["routes"]:
        ns.ip(router, "route", "add", route["to"], "dev", route["dev"])
    for key, value in network["sysctl"].items():
        ns.sysctl(router, key, value)
    if not lab.load_firewall(lab.ruleset):
        raise CommandError(f"the router's ruleset did not load: {lab.ruleset}")
    lab.start_dnsmasq()


def _gateway(lab: Lab) -> None:
    """The home router: the WAN gateway, the way to the outside and the upstream DNS stand-in."""
    ns, config, out = lab.ns, lab.config, lab.stand_ins
    router = config.network.router
    gateway = _host(lab, "gateway", WAN_BRIDGE, router.wan_gateway, router.wan_address.network)
    ns.connect(ns.name(SWITCH), OUTSIDE_BRIDGE, gateway, "eth1")
    ns.ip(gateway, "address", "add", f"{out.gateway_outside}/{out.outside.prefixlen}", "dev", "eth1")
    ns.sysctl(gateway, "net.ipv4.ip_forward", "1")
    for command in lab.plan.laptop_routes:
        run_printed(lab, gateway, command)
    servers = [str(server) for server in config.network.upstream_dns if server != router.wan_gateway]
    for server in [*servers, *map(str, elsewhere(config).values())]:
        ns.ip(gateway, "address", "add", f"{server}/32", "dev", "lo")
    dnsmasq = ["dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--log-facility=-", "--no-resolv"]
    dnsmasq += [
        "--no-hosts",
        "--bind-interfaces",
        f"--listen-address={','.join(map(str, config.network.upstream_dns))}",
    ]
    dnsmasq += [f"--pid-file={lab.workdir / 'upstream-dns.pid'}", f"--address=/{lab.probe_name}/{out.upstream}"]
    dnsmasq += [f"--address=/{name}/{address}" for name, address in lab.rebinding_answers.items()]
    ns.spawn(gateway, "upstream-dns", *dnsmasq)
    for server in config.network.upstream_dns:
        ns.wait_listening(gateway, "udp", str(server), 53)


def _host(lab: Lab, role: str, bridge: str, address: ipaddress.IPv4Address, network: ipaddress.IPv4Network) -> str:
    host = lab.ns.add(role)
    lab.ns.connect(lab.ns.name(SWITCH), bridge, host, "eth0")
    lab.ns.ip(host, "address", "add", f"{address}/{network.prefixlen}", "dev", "eth0")
    return host


def _guests(lab: Lab) -> None:
    """One namespace per guest, its NIC with the MAC from resources.json, configured from its lease."""
    for name, guest in lab.guests.items():
        lab.ns.add(f"g-{name}")
        lab.ns.connect(lab.ns.name(SWITCH), LAB_BRIDGE, guest, "eth0", lab.plan.guest_macs[name])
    lab.leases = lab.request_leases()
    for name, lease in lab.leases.items():
        if lease is not None:
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{lease.mask}").prefixlen
            lab.ns.ip(lab.guest(name), "address", "add", f"{lease.address}/{prefix}", "dev", "eth0")
            if lease.routers:
                lab.ns.ip(lab.guest(name), "route", "add", "default", "via", lease.routers[0])


def _services(lab: Lab) -> None:
    """API listeners (and the VIP) on a control plane, the ingress on a worker, SSH on the router, the internet.

    The ingress node also holds a second pool address (another LoadBalancer service) and the home
    LAN has listeners: the Proxmox API and SSH on a home host, the home router's web page.
    """
    config = lab.config
    control_plane, ingress_node = lab.guest(lab.control_plane), lab.guest(lab.ingress_node)
    if config.cluster.vip is not None:
        lab.ns.ip(control_plane, "address", "add", f"{config.cluster.vip}/32", "dev", "eth0")
    for address in (config.load_balancer.ingress_address, other_pool_address(config)):
        lab.ns.ip(ingress_node, "address", "add", f"{address}/32", "dev", "eth0")
    servers = [(control_plane, f"control-plane-{port}", port, "") for port in (*MANAGEMENT_PORTS, UNLISTED_PORT)]
    servers += [(ingress_node, f"ingress-{port}", port, lab.site_page) for port in SITE_PORTS]
    servers += [(lab.router, "router-ssh", 22, ""), (lab.ns.name("upstream"), "upstream-http", 80, "")]
    servers += [(lab.ns.name("home"), f"home-{port}", port, "") for port in HOME_PORTS]
    servers += [(lab.ns.name("gateway"), "gateway-http", 80, "")]
    for ns, label, port, page in servers:
        lab.http_server(ns, label, port, page)
    for ns, _, port, _ in servers:
        lab.ns.wait_listening(ns, "tcp", "0.0.0.0", port)


def stand_ins(config: LabConfig) -> StandIns:
    """The outside segment from a documentation range clear of every network of the config."""
    network = config.network
    taken = [network.cidr, network.router.wan_address.network, config.load_balancer.pool, *network.admin_cidrs]
    taken += [config.cluster.pod_cidr, config.cluster.service_cidr]
    outside = next(
        candidate
        for candidate in map(ipaddress.IPv4Network, OUTSIDE_CANDIDATES)
        if not any(candidate.overlaps(other) for other in taken)
        and not any(server in candidate for server in network.upstream_dns)
    )
    hosts = list(outside.hosts())
    laptop = _laptop_address(config)
    return StandIns(outside, hosts[0], hosts[1], hosts[9], laptop, _home_address(config, laptop))


def elsewhere(config: LabConfig) -> dict[str, ipaddress.IPv4Address]:
    """Per kind of network that is not the internet, an address of it clear of every network of the config."""
    network = config.network
    taken = [network.cidr, network.router.wan_address.network, config.load_balancer.pool, *network.admin_cidrs]
    taken += [config.cluster.pod_cidr, config.cluster.service_cidr]
    return {
        kind: next(
            address
            for address in map(ipaddress.IPv4Address, candidates)
            if not any(address in other for other in taken) and address not in network.upstream_dns
        )
        for kind, candidates in ELSEWHERE_CANDIDATES.items()
    }


def other_pool_address(config: LabConfig) -> ipaddress.IPv4Address:
    """A pool address other than the ingress address: another LoadBalancer service."""
    return next(host for host in config.load_balancer.pool.hosts() if host != config.load_balancer.ingress_address)


def _used_wan(config: LabConfig) -> set[ipaddress.IPv4Address]:
    router = config.network.router
    return {router.wan_address.ip, router.wan_gateway, *config.network.upstream_dns}


def _home_address(config: LabConfig, laptop: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    """The last free address of the WAN subnet."""
    used = _used_wan(config) | {laptop}
    return next(host for host in reversed(list(config.network.router.wan_address.network.hosts())) if host not in used)


def _laptop_address(config: LabConfig) -> ipaddress.IPv4Address:
    """A free WAN address inside adminCidrs: the laptop sits next to the router, as in DESIGN §1."""
    router = config.network.router
    wan = router.wan_address.network
    used = _used_wan(config)
    for cidr in config.network.admin_cidrs:
        if cidr.overlaps(wan):
            for host in (cidr if cidr.subnet_of(wan) else wan).hosts():
                if host in cidr and host not in used:
                    return host
    raise AssertionError(f"no adminCidrs address on the WAN subnet {wan}: this suite puts the laptop there")


def run_printed(lab: Lab, ns: str, command: str) -> None:
    """A command exactly as the plan prints it for the user (`sudo` is a no-op for root)."""
    words = shlex.split(command)
    words = words[1:] if words[:1] == ["sudo"] else words
    result = lab.ns.run(ns, *words)
    if result.returncode != 0:
        raise CommandError(f"{command!r} failed in {ns}: {result.stderr.strip()}")
