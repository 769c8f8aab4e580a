"""The router's nftables ruleset: the table "Who may talk to whom" of DESIGN §1, nothing more.

One file, one transaction: it starts with `flush ruleset`, so loading it again (a
reload) swaps the whole ruleset atomically and there is no instant without one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from components.router.names import ADMIN_PORTS, HEADER, LAN, WAN, WEB_PORTS
from config.models import LabConfig

# IANA IPv4 Special-Purpose Address Registry (RFC 6890 and its updates) plus multicast (RFC 5771) and the
# reserved 240/4: nothing a lab guest may reach through the WAN, whatever the home LAN looks like.
SPECIAL_PURPOSE = tuple(
    ipaddress.IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # this network
        "10.0.0.0/8",  # private (RFC 1918)
        "100.64.0.0/10",  # shared address space, CGNAT (RFC 6598)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local
        "172.16.0.0/12",  # private (RFC 1918)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private (RFC 1918)
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and the limited broadcast address
    )
)


def render_nftables(config: LabConfig) -> str:
    network = config.network
    # Collapsed: nft rejects overlapping intervals in a set.
    admins = _set(ipaddress.collapse_addresses(network.admin_cidrs))
    # With the home LAN (the WAN subnet, the admins' networks), even where it is not private space.
    outside = _set(
        ipaddress.collapse_addresses([*SPECIAL_PURPOSE, network.router.wan_address.network, *network.admin_cidrs])
    )
    lab, pool = network.cidr, config.load_balancer.pool
    ingress = config.load_balancer.ingress_address
    admin_ports = _set(ADMIN_PORTS)
    web_ports = _set(WEB_PORTS)
    return f"""#!/usr/sbin/nft -f
# Firewall of the homelab router, WAN {WAN}, lab {LAN} ({HEADER}).
# `flush ruleset` first: loading this file again replaces the ruleset in one transaction.
flush ruleset

table inet filter {{
\tset admins {{
\t\ttype ipv4_addr; flags interval;
\t\telements = {admins}
\t}}

\t# Not the internet: the home LAN and every special-purpose range (private, CGNAT, link-local,
\t# benchmarking, multicast, ...). Lab guests reach none of it through the WAN, whatever adminCidrs is.
\tset not_internet {{
\t\ttype ipv4_addr; flags interval;
\t\telements = {outside}
\t}}

\t# Anti-spoofing, before connection tracking: each side may only use its own sources.
\tchain prerouting {{
\t\ttype filter hook prerouting priority raw; policy accept;
\t\t# A DHCP client has no address yet.
\t\tiifname "{LAN}" ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept
\t\t# The pool's addresses answer from the lab side (MetalLB replies to the WAN).
\t\tiifname "{LAN}" ip saddr != {{ {lab}, {pool} }} drop
\t\tiifname "{WAN}" ip saddr {{ {lab}, {pool} }} drop
\t\t# Strict reverse path, as rp_filter=1 but independent of the sysctls.
\t\tmeta nfproto ipv4 fib saddr . iif oif missing drop
\t\t# IPv6 is off on the lab side: nothing from there, router advertisements from nowhere.
\t\tiifname "{LAN}" meta nfproto ipv6 drop
\t\ticmpv6 type nd-router-advert drop
\t}}

\tchain input {{
\t\ttype filter hook input priority filter; policy drop;
\t\tiif "lo" accept
\t\t# Before the established rule: a source dropped from the admins loses its open sessions
\t\t# with this ruleset, not at their end.
\t\tiifname "{WAN}" ct direction original tcp dport 22 ip saddr != @admins reject with tcp reset
\t\tct state established,related accept
\t\tct state invalid drop
\t\ticmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert }} ip6 hoplimit 255 accept
\t\tiifname "{LAN}" udp dport 67 accept
\t\tiifname "{LAN}" meta l4proto {{ tcp, udp }} th dport 53 accept
\t\tiifname "{WAN}" ip saddr @admins tcp dport 22 accept
\t\t# Anything else from the WAN is refused, not dropped, so clients fail fast.
\t\tiifname "{WAN}" meta l4proto tcp reject with tcp reset
\t\tiifname "{WAN}" reject with icmpx type port-unreachable
\t}}

\tchain forward {{
\t\ttype filter hook forward priority filter; policy drop;
\t\tiifname "{WAN}" ct direction original tcp dport {admin_ports} ip saddr != @admins reject with tcp reset
\t\tct state established,related accept
\t\tct state invalid drop
\t\tiifname "{WAN}" oifname "{LAN}" ip saddr @admins ip daddr {lab} tcp dport {admin_ports} accept
\t\tiifname "{WAN}" oifname "{LAN}" ip saddr @admins ip daddr {lab} icmp type echo-request accept
\t\tiifname "{WAN}" oifname "{LAN}" ip daddr {ingress} tcp dport {web_ports} accept
\t\t# Hairpin: in and out of the lab side; masqueraded below.
\t\tiifname "{LAN}" oifname "{LAN}" ip saddr {lab} ip daddr {pool} tcp dport {web_ports} accept
\t\tiifname "{LAN}" oifname "{WAN}" ip saddr {lab} ip daddr != @not_internet accept
\t\t# Anything else from the WAN is refused; from the lab it is dropped (the policy).
\t\tiifname "{WAN}" meta l4proto tcp reject with tcp reset
\t\tiifname "{WAN}" reject with icmpx type port-unreachable
\t}}
}}

table ip nat {{
\tchain postrouting {{
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "{WAN}" ip saddr {lab} masquerade
\t\t# Lab to pool (hairpin): the pool is on the same bridge, so the ingress would answer the
\t\t# guest directly and the router would see half a connection and drop the rest as invalid
\t\t# (unless the guest obeys ICMP redirects). From the router's LAN address the replies come
\t\t# back through the router, whatever the guest does with redirects, and stay filtered.
\t\toifname "{LAN}" ip saddr {lab} ip daddr {pool} masquerade
\t}}
}}
"""


def _set(items: Iterable[object]) -> str:
    return "{ " + ", ".join(str(item) for item in items) + " }"
