"""The files the router runs, rendered from the config (pure; DESIGN §1, §6).

`render_router_files` gives the dnsmasq config, the nftables ruleset, the
addressing (`network.json`) and `setup.sh`, the idempotent script that installs
them on the router (a Debian 12 LXC, WAN `eth0`, lab `eth1`). Same input, same
bytes: the Router component re-pushes exactly when one of them changes.

Where `setup.sh` puts them on the router:
  /etc/dnsmasq.d/homelab.conf     dnsmasq (Debian's service reads /etc/dnsmasq.d;
                                  /etc/dnsmasq.conf stays the package's, all comments)
  /etc/nftables.conf              nftables (what Debian's nftables.service loads)
  /etc/homelab/network.json       the addressing the router was set up for
  /etc/sysctl.d/99-homelab.conf   the sysctls of network.json
  /etc/systemd/system/homelab-network.service
                                  applies those sysctls and the routes at boot
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from config.guests import lab_guests
from config.models import LabConfig

WAN = "eth0"
LAN = "eth1"
LEASE_FILE = "/var/lib/misc/dnsmasq.leases"
LEASE_TIME = "12h"

DNSMASQ_PATH = "/etc/dnsmasq.d/homelab.conf"
NFTABLES_PATH = "/etc/nftables.conf"
NETWORK_JSON_PATH = "/etc/homelab/network.json"
SYSCTL_PATH = "/etc/sysctl.d/99-homelab.conf"
NETWORK_UNIT = "homelab-network.service"

ADMIN_PORTS = (22, 6443, 50000)  # SSH, Kubernetes API, Talos API
WEB_PORTS = (80, 443)
HEADER = "rendered by homelab; do not edit"


@dataclass(frozen=True)
class RouterFiles:
    dnsmasq_conf: str
    nftables_nft: str
    network_json: str
    setup_sh: str

    def as_files(self) -> dict[str, str]:
        return {
            "dnsmasq.conf": self.dnsmasq_conf,
            "nftables.nft": self.nftables_nft,
            "network.json": self.network_json,
            "setup.sh": self.setup_sh,
        }


def render_router_files(config: LabConfig) -> RouterFiles:
    network = network_spec(config)
    dnsmasq_conf = render_dnsmasq_conf(config)
    nftables_nft = render_nftables(config)
    network_json = json.dumps(network, indent=2, sort_keys=True) + "\n"
    setup_sh = render_setup_sh(dnsmasq_conf, nftables_nft, network_json, network)
    return RouterFiles(dnsmasq_conf, nftables_nft, network_json, setup_sh)


# --- network.json --------------------------------------------------------------


def network_spec(config: LabConfig) -> dict[str, Any]:
    """The router's addressing: what Proxmox configures, plus the routes and sysctls setup.sh adds."""
    network = config.network
    return {
        "wan": {
            "interface": WAN,
            "address": str(network.router.wan_address),
            "gateway": str(network.router.wan_gateway),
        },
        "lan": {"interface": LAN, "address": f"{network.router.address}/{network.cidr.prefixlen}"},
        # The MetalLB pool is off-subnet: its addresses are answered by ARP on the lab bridge.
        "routes": [{"to": str(config.load_balancer.pool), "dev": LAN}],
        "sysctl": {"net.ipv4.ip_forward": "1"},
    }


# --- dnsmasq -------------------------------------------------------------------


def render_dnsmasq_conf(config: LabConfig) -> str:
    network = config.network
    router = network.router
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
        f"host-record={router.name},{router.address}",
        "",
        "# DHCP: only the reserved addresses below, unless a dynamic range is configured.",
        "dhcp-authoritative",
        f"dhcp-leasefile={LEASE_FILE}",
        *_dhcp_ranges(config),
        f"dhcp-option=option:router,{router.address}",
        f"dhcp-option=option:dns-server,{router.address}",
        "",
        "# One reservation per guest: MAC, address, hostname.",
        *(f"dhcp-host={guest.mac},{guest.address},{guest.name}" for guest in lab_guests(config)),
    ]
    return "\n".join(lines) + "\n"


def _dhcp_ranges(config: LabConfig) -> list[str]:
    lan = config.network.cidr
    ranges = [f"dhcp-range={lan.network_address},static,{lan.netmask},{LEASE_TIME}"]
    span = config.network.dynamic_range
    if span is not None:
        ranges.append(f"dhcp-range={span.start},{span.end},{lan.netmask},{LEASE_TIME}")
    return ranges


# --- nftables ------------------------------------------------------------------


def render_nftables(config: LabConfig) -> str:
    # Collapsed: nft rejects overlapping intervals in a set.
    admin = _set(ipaddress.collapse_addresses(config.network.admin_cidrs))
    lab = config.network.cidr
    pool = config.load_balancer.pool
    return f"""#!/usr/sbin/nft -f
# Firewall of the homelab router, WAN {WAN}, lab {LAN} ({HEADER}).
# `flush ruleset` first: loading this file again replaces the ruleset in one transaction.
flush ruleset

table inet filter {{
\tchain input {{
\t\ttype filter hook input priority filter; policy drop;
\t\tiif "lo" accept
\t\tct state established,related accept
\t\tct state invalid drop
\t\tmeta l4proto {{ icmp, ipv6-icmp }} accept
\t\tiifname "{LAN}" udp dport 67 accept
\t\tiifname "{LAN}" meta l4proto {{ tcp, udp }} th dport 53 accept
\t\tip saddr {admin} tcp dport 22 accept
\t}}

\tchain forward {{
\t\ttype filter hook forward priority filter; policy drop;
\t\tct state established,related accept
\t\tct state invalid drop
\t\tiifname "{LAN}" accept
\t\tip daddr {pool} tcp dport {_set(WEB_PORTS)} accept
\t\tip saddr {admin} ip daddr {lab} tcp dport {_set(ADMIN_PORTS)} accept
\t\t# Anything else from the WAN is refused, not dropped, so clients fail fast.
\t\tiifname "{WAN}" meta l4proto tcp reject with tcp reset
\t\tiifname "{WAN}" reject with icmpx type port-unreachable
\t}}
}}

table ip nat {{
\tchain postrouting {{
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\toifname "{WAN}" ip saddr {lab} masquerade
\t}}
}}
"""


def _set(items: Iterable[object]) -> str:
    return "{ " + ", ".join(str(item) for item in items) + " }"


# --- setup.sh ------------------------------------------------------------------


def render_sysctl_conf(network: dict[str, Any]) -> str:
    return f"# {HEADER}\n" + "".join(f"{key} = {value}\n" for key, value in sorted(network["sysctl"].items()))


def render_network_unit(network: dict[str, Any]) -> str:
    """A oneshot unit: Proxmox rewrites /etc/network/interfaces on every start, so routes live here.

    It applies the sysctls too: systemd-sysctl skips containers, where /proc/sys is read-only.
    """
    routes = [f"{route['to']} dev {route['dev']}" for route in network["routes"]]
    return "\n".join(
        [
            f"# {HEADER}",
            "[Unit]",
            "Description=homelab router: forwarding and routes to the load-balancer pool",
            "Wants=network-online.target",
            "After=network-online.target",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart=/sbin/sysctl -q -p {SYSCTL_PATH}",
            *(f"ExecStart=/sbin/ip route replace {route}" for route in routes),
            *(f"ExecStop=-/sbin/ip route del {route}" for route in routes),
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def _heredoc(path: str, content: str) -> str:
    delimiter = "HOMELAB_EOF"
    if not content.endswith("\n") or delimiter in content.splitlines():
        raise ValueError(f"cannot embed {path} in a heredoc")
    return f"cat >{path} <<'{delimiter}'\n{content}{delimiter}\n"


def render_setup_sh(dnsmasq_conf: str, nftables_nft: str, network_json: str, network: dict[str, Any]) -> str:
    staged = {
        "dnsmasq.conf": dnsmasq_conf,
        "nftables.nft": nftables_nft,
        "network.json": network_json,
        "sysctl.conf": render_sysctl_conf(network),
        "unit.service": render_network_unit(network),
    }
    wan, lan = network["wan"], network["lan"]
    routes = [f"{route['to']} dev {route['dev']}" for route in network["routes"]]
    return "".join(
        [
            _SETUP_HEAD.format(header=HEADER),
            f"require_address {wan['interface']} {wan['address']}\n",
            f"require_address {lan['interface']} {lan['address']}\n",
            "ensure_packages dnsmasq nftables\n\n",
            "# The files, staged and validated before anything is activated.\n",
            *(_heredoc(f'"$staging/{name}"', content) for name, content in staged.items()),
            _SETUP_BODY.format(
                dnsmasq=DNSMASQ_PATH,
                nftables=NFTABLES_PATH,
                network_json=NETWORK_JSON_PATH,
                sysctl=SYSCTL_PATH,
                unit=NETWORK_UNIT,
            ),
            *(f"ip route replace {route}\n" for route in routes),
            _SETUP_TAIL.format(unit=NETWORK_UNIT),
        ]
    )


_SETUP_HEAD = """#!/usr/bin/env bash
# Configures the homelab router: Debian 12 LXC, run as root ({header}).
# Idempotent: a file is replaced only when its content differs; a second run changes nothing.
set -euo pipefail

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT

# Proxmox configures the interfaces; refuse to set up a router that is wired differently.
require_address() {{
  if [[ $(ip -4 -o addr show dev "$1") != *" $2 "* ]]; then
    echo "homelab: $1 does not have the address $2; check the container's network settings" >&2
    exit 1
  fi
}}

ensure_packages() {{
  local package missing=()
  for package in "$@"; do
    # shellcheck disable=SC2016 # a dpkg-query format, not a shell expansion
    if [[ $(dpkg-query -W -f='${{db:Status-Status}}' "$package" 2>/dev/null) != installed ]]; then
      missing+=("$package")
    fi
  done
  if ((${{#missing[@]}})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${{missing[@]}}"
  fi
}}

# put SOURCE DEST MODE: install SOURCE as DEST unless DEST already has that content.
put() {{
  if ! cmp -s "$1" "$2"; then
    install -D -m "$3" "$1" "$2"
    echo "homelab: updated $2"
  fi
}}

"""

_SETUP_BODY = """
dnsmasq --test --conf-file="$staging/dnsmasq.conf"
nft -c -f "$staging/nftables.nft"

unit=/etc/systemd/system/{unit}
if ! cmp -s "$staging/unit.service" "$unit"; then
  if [[ -f $unit ]]; then
    systemctl stop {unit}  # the old unit removes the routes it added
  fi
  put "$staging/unit.service" "$unit" 0644
  systemctl daemon-reload
fi
put "$staging/dnsmasq.conf" {dnsmasq} 0644
put "$staging/nftables.nft" {nftables} 0755
put "$staging/network.json" {network_json} 0644
put "$staging/sysctl.conf" {sysctl} 0644

# Activate: firewall first, then forwarding and routes, then DHCP and DNS.
systemctl enable --quiet nftables.service {unit} dnsmasq.service
systemctl reload-or-restart nftables.service
sysctl -q -p {sysctl}
"""

_SETUP_TAIL = """systemctl start {unit}
systemctl restart dnsmasq.service
"""
