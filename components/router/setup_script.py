"""`setup.sh`, the idempotent script that installs the router's files, and the units it installs.

Fail closed: forwarding is switched on only after the ruleset has loaded (setup.sh runs
under `set -e`; at boot, nftables.service's drop-in switches it on after its load and
off before its flush), so a router whose ruleset failed to load or was stopped routes nothing.
"""

from __future__ import annotations

from typing import Any

from components.router.names import (
    DNSMASQ_PATH,
    HEADER,
    NETWORK_JSON_PATH,
    NETWORK_UNIT,
    NFTABLES_DROP_IN_PATH,
    NFTABLES_PATH,
    SYSCTL_PATH,
)

PACKAGES = ("dnsmasq", "nftables")


def _assignments(settings: dict[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in sorted(settings.items())]


def _off(settings: dict[str, str]) -> dict[str, str]:
    return dict.fromkeys(settings, "0")


def render_sysctl_conf(network: dict[str, Any]) -> str:
    return f"# {HEADER}\n" + "".join(f"{key} = {value}\n" for key, value in sorted(network["sysctl"].items()))


def render_nftables_drop_in(network: dict[str, Any]) -> str:
    """Ties forwarding to nftables.service (Debian's unit: ExecStart/ExecReload `nft -f`, ExecStop flush).

    The protections are applied here too: this unit runs before the network comes up. A
    leading `-`: a missing setting must not keep the firewall from loading.
    """
    forwarding = network["forwarding"]
    return "\n".join(
        [
            f"# {HEADER}",
            "# The router forwards only while its ruleset is loaded.",
            "[Service]",
            f"ExecStartPre=-/sbin/sysctl -q -e -p {SYSCTL_PATH}",
            *(f"ExecStartPre=/sbin/sysctl -q -w {item}" for item in _assignments(_off(forwarding))),
            *(f"ExecStartPost=/sbin/sysctl -q -w {item}" for item in _assignments(forwarding)),
            "ExecStop=",
            *(f"ExecStop=/sbin/sysctl -q -w {item}" for item in _assignments(_off(forwarding))),
            "ExecStop=/usr/sbin/nft flush ruleset",
            "",
        ]
    )


def render_network_unit(network: dict[str, Any]) -> str:
    """A oneshot unit: Proxmox rewrites /etc/network/interfaces on every start, so routes live here.

    It applies the sysctls too: systemd-sysctl skips containers, where /proc/sys is read-only.
    `sysctl -e`: a kernel booted without IPv6 has no net.ipv6 keys, and nothing to protect there.
    """
    routes = [f"{route['to']} dev {route['dev']}" for route in network["routes"]]
    return "\n".join(
        [
            f"# {HEADER}",
            "[Unit]",
            "Description=homelab router: kernel protections and routes to the load-balancer pool",
            "Wants=network-online.target",
            "After=network-online.target nftables.service",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart=/sbin/sysctl -q -e -p {SYSCTL_PATH}",
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
        "nftables-drop-in.conf": render_nftables_drop_in(network),
    }
    wan, lan = network["wan"], network["lan"]
    routes = [f"{route['to']} dev {route['dev']}" for route in network["routes"]]
    return "".join(
        [
            _SETUP_HEAD.format(header=HEADER, apt_seconds=APT_SECONDS),
            _FORWARDING_GUARD.format(
                off="".join(f"  sysctl -q -w {item}\n" for item in _assignments(_off(network["forwarding"])))
            ),
            f"require_address {wan['interface']} {wan['address']}\n",
            f"require_address {lan['interface']} {lan['address']}\n",
            f"ensure_packages {' '.join(PACKAGES)}\n\n",
            "# The files, staged and validated before anything is activated.\n",
            *(_heredoc(f'"$staging/{name}"', content) for name, content in staged.items()),
            _SETUP_BODY.format(
                dnsmasq=DNSMASQ_PATH,
                nftables=NFTABLES_PATH,
                network_json=NETWORK_JSON_PATH,
                sysctl=SYSCTL_PATH,
                unit=NETWORK_UNIT,
                drop_in=NFTABLES_DROP_IN_PATH,
            ),
            *(f"sysctl -q -w {item}\n" for item in _assignments(network["forwarding"])),
            *(f"ip route replace {route}\n" for route in routes),
            _SETUP_TAIL.format(unit=NETWORK_UNIT),
        ]
    )


# How long the router waits for the Debian mirrors on its first setup.
APT_SECONDS = 300

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
    # A fresh container may not reach the mirrors yet: retried until a deadline, then said why.
    local deadline=$((SECONDS + {apt_seconds}))
    until apt-get update -q -o Acquire::Retries=3; do
      if ((SECONDS >= deadline)); then
        echo "homelab: gave up after {apt_seconds} s waiting for the Debian mirrors to answer apt-get update" >&2
        echo "homelab: check the router's WAN address, gateway and upstream DNS" >&2
        exit 1
      fi
      sleep 10
    done
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

# First of all: a router without its ruleset (a fresh container, nft not even installed yet, or a
# flushed ruleset) forwards nothing while this script installs packages and files.
_FORWARDING_GUARD = """if ! nft list table inet filter >/dev/null 2>&1; then
{off}fi

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
if ! cmp -s "$staging/nftables-drop-in.conf" {drop_in}; then
  put "$staging/nftables-drop-in.conf" {drop_in} 0644
  systemctl daemon-reload
fi
put "$staging/dnsmasq.conf" {dnsmasq} 0644
put "$staging/nftables.nft" {nftables} 0755
put "$staging/network.json" {network_json} 0644
put "$staging/sysctl.conf" {sysctl} 0644

# Activate: protections, then the firewall (a reload swaps the ruleset in one transaction and
# ends the sessions of sources no longer admitted), then forwarding: under `set -e` it is only
# reached once the ruleset is loaded. Then routes, DHCP and DNS.
sysctl -q -e -p {sysctl}
systemctl enable --quiet nftables.service {unit} dnsmasq.service
systemctl reload-or-restart nftables.service
"""

_SETUP_TAIL = """systemctl start {unit}
systemctl restart dnsmasq.service
"""
