"""Building a `Lab` (see `tests.network.lab`) step by step; `Namespaces.close` undoes all of it."""

from __future__ import annotations

import ipaddress
import sys

from config.guests import lab_guests
from config.models import LabConfig
from tests.network.inputs import PlanFiles
from tests.network.lab import (
    DHCLIENT_CONF,
    DHCLIENT_HOOK,
    MANAGEMENT_PORTS,
    SITE_PORTS,
    UNLISTED_PORT,
    Lab,
    run_printed,
    stand_ins,
)
from tests.network.netns import Namespaces

SWITCH = "switch"
LAB_BRIDGE, WAN_BRIDGE, OUTSIDE_BRIDGE = "lab", "wan", "outside"


def build_lab(stack: str, config: LabConfig, plan: PlanFiles, ns: Namespaces) -> Lab:
    lab = Lab(stack, config, plan, ns, stand_ins(config))
    _switch(ns)
    _router(lab)
    _gateway(lab)
    _laptop(lab)
    _outside(lab)
    _guests(lab)
    _services(lab)
    return lab


def _switch(ns: Namespaces) -> None:
    switch = ns.add(SWITCH)
    for bridge in (LAB_BRIDGE, WAN_BRIDGE, OUTSIDE_BRIDGE):
        ns.ip(switch, "link", "add", bridge, "type", "bridge")
        ns.ip(switch, "link", "set", bridge, "up")


def _router(lab: Lab) -> None:
    """Exactly what network.json, nftables.nft and dnsmasq.conf say; nothing else."""
    ns, network, macs = lab.ns, lab.plan.network, lab.plan.router_macs
    router = ns.add("router")
    switch = ns.name(SWITCH)
    for side, bridge in (("wan", WAN_BRIDGE), ("lan", LAB_BRIDGE)):
        interface = network[side]["interface"]
        ns.connect(switch, bridge, router, interface, macs.get(interface))
        ns.ip(router, "address", "add", network[side]["address"], "dev", interface)
    ns.ip(router, "route", "add", "default", "via", network["wan"]["gateway"])
    for route in network["routes"]:
        ns.ip(router, "route", "add", route["to"], "dev", route["dev"])
    for key, value in network["sysctl"].items():
        ns.sysctl(router, key, value)
    ns.run_host("ip", "netns", "exec", router, "nft", "-f", str(lab.plan.router / "nftables.nft"))
    lab.start_dnsmasq()


def _gateway(lab: Lab) -> None:
    """The home router: WAN gateway, way to the outside, and the upstream DNS stand-in."""
    ns, config, out = lab.ns, lab.config, lab.stand_ins
    gateway = ns.add("gateway")
    wan = config.network.router.wan_address.network
    ns.connect(ns.name(SWITCH), WAN_BRIDGE, gateway, "eth0")
    ns.ip(gateway, "address", "add", f"{config.network.router.wan_gateway}/{wan.prefixlen}", "dev", "eth0")
    ns.connect(ns.name(SWITCH), OUTSIDE_BRIDGE, gateway, "eth1")
    ns.ip(gateway, "address", "add", f"{out.gateway_outside}/{out.outside.prefixlen}", "dev", "eth1")
    ns.sysctl(gateway, "net.ipv4.ip_forward", "1")
    for command in lab.plan.laptop_routes:
        run_printed(lab, gateway, command)
    servers = [str(server) for server in config.network.upstream_dns]
    for server in servers:
        if ipaddress.IPv4Address(server) != config.network.router.wan_gateway:
            ns.ip(gateway, "address", "add", f"{server}/32", "dev", "lo")
    ns.spawn(
        gateway,
        "upstream-dns",
        *("dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--log-facility=-", "--no-resolv", "--no-hosts"),
        *("--bind-interfaces", f"--listen-address={','.join(servers)}", f"--pid-file={lab.workdir / 'upstream.pid'}"),
        f"--address=/{lab.probe_name}/{out.upstream}",
    )
    for server in servers:
        ns.wait_listening(gateway, "udp", server, 53)


def _laptop(lab: Lab) -> None:
    """On the WAN inside adminCidrs, with only the routes the plan prints (no default route)."""
    ns = lab.ns
    laptop = ns.add("laptop")
    ns.connect(ns.name(SWITCH), WAN_BRIDGE, laptop, "eth0")
    prefix = lab.config.network.router.wan_address.network.prefixlen
    ns.ip(laptop, "address", "add", f"{lab.stand_ins.laptop}/{prefix}", "dev", "eth0")
    for command in lab.plan.laptop_routes:
        run_printed(lab, laptop, command)


def _outside(lab: Lab) -> None:
    ns, out = lab.ns, lab.stand_ins
    for role, address in (("outsider", out.outsider), ("upstream", out.upstream)):
        host = ns.add(role)
        ns.connect(ns.name(SWITCH), OUTSIDE_BRIDGE, host, "eth0")
        ns.ip(host, "address", "add", f"{address}/{out.outside.prefixlen}", "dev", "eth0")
        ns.ip(host, "route", "add", "default", "via", str(out.gateway_outside))
    _http(lab, ns.name("upstream"), "upstream-http", str(out.upstream), 80, "")


def _guests(lab: Lab) -> None:
    """One namespace per guest, its NIC with the MAC from resources.json, configured by DHCP."""
    ns = lab.ns
    (lab.workdir / "dhclient.conf").write_text(DHCLIENT_CONF, encoding="utf-8")
    hook = lab.workdir / "dhclient-hook"
    hook.write_text(DHCLIENT_HOOK, encoding="utf-8")
    hook.chmod(0o755)
    names = [guest.name for guest in lab_guests(lab.config)]
    for name in names:
        ns.add(f"g-{name}")
        ns.connect(ns.name(SWITCH), LAB_BRIDGE, lab.guest(name), "eth0", lab.plan.guest_macs[name])
    lab.leases = lab.request_leases(names)
    for name, lease in lab.leases.items():
        if lease is not None:
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{lease.mask}").prefixlen
            ns.ip(lab.guest(name), "address", "add", f"{lease.address}/{prefix}", "dev", "eth0")
            if lease.routers:
                ns.ip(lab.guest(name), "route", "add", "default", "via", lease.routers[0])


def _services(lab: Lab) -> None:
    """Stand-ins: the API listeners (and the VIP) on a control plane, the ingress on a worker, SSH on the router."""
    ns, config = lab.ns, lab.config
    control_plane = lab.guest(lab.control_plane)
    if config.cluster.vip is not None:
        ns.ip(control_plane, "address", "add", f"{config.cluster.vip}/32", "dev", "eth0")
    for port in (*MANAGEMENT_PORTS, UNLISTED_PORT):
        _http(lab, control_plane, f"control-plane-{port}", "0.0.0.0", port, "")
    ingress = str(config.load_balancer.ingress_address)
    ns.ip(lab.guest(lab.ingress_node), "address", "add", f"{ingress}/32", "dev", "eth0")
    for port in SITE_PORTS:
        _http(lab, lab.guest(lab.ingress_node), f"ingress-{port}", ingress, port, lab.site_page)
    _http(lab, lab.router, "router-ssh", "0.0.0.0", 22, "")


def _http(lab: Lab, ns: str, label: str, address: str, port: int, page: str) -> None:
    root = lab.workdir / "www" / label
    root.mkdir(parents=True)
    if page:
        (root / "index.html").write_text(page, encoding="utf-8")
    command = [sys.executable, "-m", "http.server", str(port), "--bind", address, "--directory", str(root)]
    lab.ns.spawn(ns, label, *command)
    lab.ns.wait_listening(ns, "tcp", address, port)
