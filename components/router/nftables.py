"""The router's nftables ruleset: the table "Who may talk to whom" of DESIGN §1, nothing more.

One file, one transaction: it starts with `flush ruleset`, so loading it again (a
reload) swaps the whole ruleset atomically and there is no instant without one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from components.router.names import ADMIN_PORTS, HEADER, LAN, WAN, WEB_PORTS
from config.models import LabConfig


def render_nftables(config: LabConfig) -> str:
    network = config.network
    # Collapsed: nft rejects overlapping intervals in a set.
    admins = _set(ipaddress.collapse_addresses(network.admin_cidrs))
    home = _set(ipaddress.collapse_addresses([network.router.wan_address.network, *network.admin_cidrs]))
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

\t# The home LAN: the WAN subnet and the admins' networks. Lab guests reach none of it.
\tset home {{
\t\ttype ipv4_addr; flags interval;
\t\telements = {home}
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
\t\tiifname "{LAN}" oifname "{WAN}" ip saddr {lab} ip daddr != @home accept
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
