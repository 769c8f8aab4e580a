"""`network.json`: the router's addressing, routes and kernel settings (DESIGN §6).

`sysctl` holds the protections, applied at boot before anything else; `forwarding`
holds what turns routing on, applied only once the ruleset has loaded (and turned
off again before the ruleset goes): a router without its firewall does not forward.
"""

from __future__ import annotations

import json
from typing import Any

from components.router.names import LAN, WAN
from config.fabric import explicit_mtu
from config.models import LabConfig

INTERFACES = ("all", "default", WAN, LAN)


def protection_sysctls() -> dict[str, str]:
    settings: dict[str, str] = {}
    for interface in INTERFACES:
        ipv4, ipv6 = f"net.ipv4.conf.{interface}", f"net.ipv6.conf.{interface}"
        # Strict reverse path: a packet is accepted only on the interface its source routes out of.
        settings[f"{ipv4}.rp_filter"] = "1"
        # The router decides the paths: it neither follows nor sends ICMP redirects.
        settings[f"{ipv4}.accept_redirects"] = "0"
        settings[f"{ipv4}.send_redirects"] = "0"
        settings[f"{ipv4}.accept_source_route"] = "0"
        # Router advertisements give no address and no route, on either side.
        settings[f"{ipv6}.accept_ra"] = "0"
        settings[f"{ipv6}.autoconf"] = "0"
    # The lab is IPv4 only: no IPv6 address at all on the lab side.
    settings[f"net.ipv6.conf.{LAN}.disable_ipv6"] = "1"
    return settings


def network_spec(config: LabConfig) -> dict[str, Any]:
    """The router's addressing: what Proxmox configures, plus the routes and sysctls setup.sh adds."""
    network = config.network
    lan: dict[str, Any] = {"interface": LAN, "address": f"{network.router.address}/{network.cidr.prefixlen}"}
    mtu = explicit_mtu(network)
    if mtu is not None:  # Proxmox sets it on the container's eth1 (its `mtu`); here for whoever reads the plan
        lan["mtu"] = mtu
    return {
        "wan": {
            "interface": WAN,
            "address": str(network.router.wan_address),
            "gateway": str(network.router.wan_gateway),
        },
        "lan": lan,
        # The MetalLB pool is off-subnet: its addresses are answered by ARP on the lab bridge.
        "routes": [{"to": str(config.load_balancer.pool), "dev": LAN}],
        "sysctl": protection_sysctls(),
        "forwarding": {"net.ipv4.ip_forward": "1"},
    }


def render_network_json(network: dict[str, Any]) -> str:
    return json.dumps(network, indent=2, sort_keys=True) + "\n"
