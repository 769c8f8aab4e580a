"""A two-host VXLAN lab in network namespaces, built from what the plan registers (`vxlan_lab`).

underlay switch (the hosts' management network, MTU `network.underlayMtu`)
  +-- host pve-1: eth0 = its peer address; a VXLAN device (the VNet's tag as VNI, a head-end replication
  |               entry per other peer, the zone's MTU) enslaved to a bridge named after the VNet
  +-- host pve-2: the same
Each guest (and the router's LAN side) is a namespace cabled to the VNet bridge of the host the plan puts
it on, with its MAC and MTU from resources.json; the router's WAN side sits on a bridge of its host.
This is what Proxmox's SDN builds for a VXLAN zone (pve-network's VxlanPlugin: `vxlan-id`, one
`vxlan_remoteip` per other peer, the zone MTU on the VXLAN device and the VNet bridge).
"""

from __future__ import annotations

import ipaddress
import itertools
from dataclasses import dataclass
from typing import Any

from config.models import LabConfig
from tests.network.build import stand_ins, start_router
from tests.network.dhcp import DhcpClients
from tests.network.inputs import CONTAINER, VM, PlanFiles
from tests.network.lab import Lab
from tests.network.netns import CommandError, Namespaces

ZONE = "proxmoxve:sdn/zone/vxlanLegacy:VxlanLegacy"
VNET = "proxmoxve:sdn/vnetLegacy:VnetLegacy"
VXLAN_PORT = "4789"  # IANA's VXLAN port, what Linux and Proxmox use
UNDERLAY = "underlay"
WAN_BRIDGE = "wan"
# dhclient asks for the MTU too and the hook records it.
DHCP_CONF = """timeout {timeout};
initial-interval 1;
request subnet-mask, broadcast-address, routers, domain-name-servers, host-name, interface-mtu;
"""
MTU_HOOK = """#!/bin/sh
printf 'reason=%s\\naddress=%s\\nmask=%s\\nrouters=%s\\ndns=%s\\nhostname=%s\\nmtu=%s\\n--\\n' \\
  "$reason" "$new_ip_address" "$new_subnet_mask" "$new_routers" "$new_domain_name_servers" "$new_host_name" \\
  "$new_interface_mtu" >>"$LEASE_RECORD"
"""


@dataclass(frozen=True)
class Fabric:
    """The VXLAN zone and VNet as the plan registers them, and where each guest runs."""

    vni: int
    vnet: str
    mtu: int
    peers: dict[str, str]  # host -> underlay address (the zone's nodes and peers, in order)
    guest_hosts: dict[str, str]  # guest name -> host
    guest_mtus: dict[str, int]  # guest name -> the MTU of its lab NIC
    router_host: str
    router_lan_mtu: int


def fabric_from(resources: list[dict[str, Any]], config: LabConfig) -> Fabric:
    (zone,) = [r["inputs"] for r in resources if r["type"] == ZONE]
    (vnet,) = [r["inputs"] for r in resources if r["type"] == VNET]
    guest_hosts: dict[str, str] = {}
    guest_mtus: dict[str, int] = {}
    router: dict[str, Any] = {}
    for record in resources:
        inputs = record["inputs"]
        if record["type"] == VM:
            guest_hosts[inputs["name"]] = inputs["nodeName"]
            guest_mtus[inputs["name"]] = int(inputs["networkDevices"][0]["mtu"])
        elif record["type"] == CONTAINER:
            hostname = inputs["initialization"]["hostname"]
            lab_nic = next(nic for nic in inputs["networkInterfaces"] if nic["bridge"] == vnet["resourceId"])
            if hostname == config.network.router.name:
                router = {"host": inputs["nodeName"], "mtu": int(lab_nic["mtu"])}
            else:
                guest_hosts[hostname] = inputs["nodeName"]
                guest_mtus[hostname] = int(lab_nic["mtu"])
    return Fabric(
        vni=int(vnet["tag"]),
        vnet=vnet["resourceId"],
        mtu=int(zone["mtu"]),
        peers=dict(zip(zone["nodes"], zone["peers"], strict=True)),
        guest_hosts=guest_hosts,
        guest_mtus=guest_mtus,
        router_host=router["host"],
        router_lan_mtu=router["mtu"],
    )


def host_ns(ns: Namespaces, host: str) -> str:
    return ns.name(f"h-{host}")


def vxlan_lab(stack: str, config: LabConfig, plan: PlanFiles, fabric: Fabric, ns: Namespaces) -> Lab:
    dhcp = DhcpClients(ns.workdir / "dhcp")
    (dhcp.folder / "dhclient.conf").write_text(DHCP_CONF.format(timeout=dhcp.timeout), encoding="utf-8")
    (dhcp.folder / "hook").write_text(MTU_HOOK, encoding="utf-8")
    lab = Lab(stack, config, plan, ns, stand_ins(config), dhcp)
    underlay = ns.add("ul")
    ns.ip(underlay, "link", "add", UNDERLAY, "type", "bridge")
    ns.ip(underlay, "link", "set", UNDERLAY, "mtu", str(config.network.underlay_mtu), "up")
    prefix = config.network.router.wan_address.network.prefixlen
    for host, address in fabric.peers.items():
        _host(lab, fabric, host, address, prefix)
    _router(lab, fabric)
    return lab


def _host(lab: Lab, fabric: Fabric, host: str, address: str, prefix: int) -> None:
    """A Proxmox host: its management NIC on the underlay, the VXLAN device and the VNet bridge."""
    ns, mtu = lab.ns, str(lab.config.network.underlay_mtu)
    name = ns.add(f"h-{host}")
    port = ns.connect(ns.name("ul"), UNDERLAY, name, "eth0")
    ns.ip(ns.name("ul"), "link", "set", port, "mtu", mtu)
    ns.ip(name, "link", "set", "eth0", "mtu", mtu)
    ns.ip(name, "address", "add", f"{address}/{prefix}", "dev", "eth0")
    device = f"vxlan_{fabric.vnet}"[:15]
    ns.ip(name, "link", "add", device, "type", "vxlan", "id", str(fabric.vni), "local", address, "dstport", VXLAN_PORT)
    for peer in fabric.peers.values():
        if peer != address:  # head-end replication: broadcasts and unknown destinations go to every other peer
            ns.run_host("ip", "netns", "exec", name, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", device,
                        "dst", peer)  # fmt: skip
    ns.ip(name, "link", "add", fabric.vnet, "type", "bridge")
    ns.ip(name, "link", "set", device, "mtu", str(fabric.mtu), "master", fabric.vnet, "up")
    ns.ip(name, "link", "set", fabric.vnet, "mtu", str(fabric.mtu), "up")
    if host == fabric.router_host:
        ns.ip(name, "link", "add", WAN_BRIDGE, "type", "bridge")
        ns.ip(name, "link", "set", WAN_BRIDGE, "up")


def cable(lab: Lab, fabric: Fabric, name: str) -> str:
    """The guest's NIC (its MAC) on its host's VNet bridge, at its planned MTU on both ends, as Proxmox sets a tap;
    the bridge port's name."""
    ns, guest = lab.ns, lab.guest(name)
    host = host_ns(ns, fabric.guest_hosts[name])
    port = ns.connect(host, fabric.vnet, guest, "eth0", lab.plan.guest_macs[name])
    set_mtu(lab, fabric, name, port, fabric.guest_mtus[name])
    return port


def set_mtu(lab: Lab, fabric: Fabric, name: str, port: str, mtu: int) -> None:
    lab.ns.ip(host_ns(lab.ns, fabric.guest_hosts[name]), "link", "set", port, "mtu", str(mtu))
    lab.ns.ip(lab.guest(name), "link", "set", "eth0", "mtu", str(mtu))


def _router(lab: Lab, fabric: Fabric) -> None:
    """network.json, nftables.nft and dnsmasq.conf, on the host the plan puts the router on."""
    ns, network, macs = lab.ns, lab.plan.network, lab.plan.router_macs
    router = ns.add("router")
    host = host_ns(ns, fabric.router_host)
    for side, bridge in (("wan", WAN_BRIDGE), ("lan", fabric.vnet)):
        interface = network[side]["interface"]
        port = ns.connect(host, bridge, router, interface, macs.get(interface))
        ns.ip(router, "address", "add", network[side]["address"], "dev", interface)
    lan = network["lan"]
    if lan["mtu"] != fabric.router_lan_mtu:
        raise CommandError(f"network.json's LAN MTU {lan['mtu']} is not the container's {fabric.router_lan_mtu}")
    ns.ip(host, "link", "set", port, "mtu", str(lan["mtu"]))  # the last port made: the LAN side
    ns.ip(router, "link", "set", lan["interface"], "mtu", str(lan["mtu"]))
    start_router(lab, ns, router, network)


def configure_from_lease(lab: Lab, name: str) -> dict[str, str]:
    """The guest's address and default route from its lease; the lease's fields (with the MTU) returned."""
    record = (lab.dhcp.folder / name / "record").read_text(encoding="utf-8")
    events = [dict(line.split("=", 1) for line in event.splitlines()) for event in record.split("--\n") if event]
    lease = [event for event in events if event.get("reason") in ("BOUND", "RENEW", "REBIND", "REBOOT")][-1]
    prefix = ipaddress.IPv4Network(f"0.0.0.0/{lease['mask']}").prefixlen
    guest = lab.guest(name)
    lab.ns.ip(guest, "address", "add", f"{lease['address']}/{prefix}", "dev", "eth0")
    lab.ns.ip(guest, "route", "add", "default", "via", lease["routers"].split()[0])
    return lease


def counter(lab: Lab, ns: str, name: str) -> int:
    """An IP counter of /proc/net/snmp (e.g. FragCreates, ReasmReqds) in `ns`."""
    lines = [line.split() for line in lab.ns.run(ns, "cat", "/proc/net/snmp").stdout.splitlines()]
    header, values = next((h, v) for h, v in itertools.pairwise(lines) if h[0] == "Ip:" and v[0] == "Ip:")
    return int(values[header.index(name)])
