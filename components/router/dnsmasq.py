"""The router's dnsmasq: DHCP (reservations, an optional bounded dynamic range) and DNS for the lab."""

from __future__ import annotations

from components.router.names import HEADER, LAN, LEASE_FILE
from config.fabric import explicit_mtu
from config.guests import lab_guests
from config.models import DhcpRange, LabConfig

LEASE_TIME = "12h"
# Short, so addresses taken by clients that vanished (or forged MACs) come back soon.
DYNAMIC_LEASE_TIME = "1h"


def render_dnsmasq_conf(config: LabConfig) -> str:
    network = config.network
    router = network.router
    guests = lab_guests(config)
    lines = [
        f"# dnsmasq of the homelab router: DHCP and DNS for the lab on {LAN} only ({HEADER}).",
        f"interface={LAN}",
        # bind-dynamic: listen on eth1's addresses only (never the WAN), even if eth1 comes up late.
        "bind-dynamic",
        "",
        "# DNS: forward to the configured upstreams, never to what /etc/resolv.conf says.",
        "no-resolv",
        "no-hosts",
        *(f"server={server}" for server in network.upstream_dns),
        "domain-needed",
        "bogus-priv",
        # Rebinding: upstream answers that point a name at a private, link-local or loopback
        # address are dropped (no rebind-localhost-ok). The lab's own names below are local.
        "stop-dns-rebind",
        "",
        "# The lab's names: the router, every guest (leased or not) and the site at the ingress address.",
        f"host-record={router.name},{router.address}",
        *(f"host-record={guest.name},{guest.address}" for guest in guests),
        f"host-record={config.site.host},{config.load_balancer.ingress_address}",
        "",
        "# DHCP: only the reserved addresses below, unless a dynamic range is configured.",
        "dhcp-authoritative",
        f"dhcp-leasefile={LEASE_FILE}",
        *_dhcp_ranges(config),
        # The dynamic range plus room for every reservation twice (a replaced guest's old lease
        # lives until it expires): a flood of made-up MACs cannot grow the lease table past that.
        f"dhcp-lease-max={2 * len(guests) + _size(network.dynamic_range)}",
        f"dhcp-option=option:router,{router.address}",
        f"dhcp-option=option:dns-server,{router.address}",
        *_mtu_option(config),
        "",
        "# One reservation per guest: MAC, address, hostname.",
        *(f"dhcp-host={guest.mac},{guest.address},{guest.name}" for guest in guests),
    ]
    return "\n".join(lines) + "\n"


def _mtu_option(config: LabConfig) -> list[str]:
    """The lab MTU (option 26, RFC 2132 §5.1) for anything on the segment the program does not configure."""
    mtu = explicit_mtu(config.network)
    return [] if mtu is None else [f"dhcp-option=option:mtu,{mtu}"]


def _size(span: DhcpRange | None) -> int:
    return 0 if span is None else int(span.end) - int(span.start) + 1


def _dhcp_ranges(config: LabConfig) -> list[str]:
    lan = config.network.cidr
    ranges = [f"dhcp-range={lan.network_address},static,{lan.netmask},{LEASE_TIME}"]
    span = config.network.dynamic_range
    if span is not None:
        ranges.append(f"dhcp-range={span.start},{span.end},{lan.netmask},{DYNAMIC_LEASE_TIME}")
    return ranges
