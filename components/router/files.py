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
  /etc/sysctl.d/99-homelab.conf   the protective sysctls of network.json
  /etc/systemd/system/nftables.service.d/homelab.conf
                                  forwarding on after the ruleset loads, off before it goes
  /etc/systemd/system/homelab-network.service
                                  applies those sysctls and the routes at boot
"""

from __future__ import annotations

from dataclasses import dataclass

from components.router.dnsmasq import render_dnsmasq_conf
from components.router.names import DNSMASQ_PATH, NETWORK_JSON_PATH, NFTABLES_PATH, SYSCTL_PATH
from components.router.network_spec import network_spec, render_network_json
from components.router.nftables import render_nftables
from components.router.setup_script import render_setup_sh
from config.models import LabConfig

__all__ = ["DNSMASQ_PATH", "NETWORK_JSON_PATH", "NFTABLES_PATH", "SYSCTL_PATH", "RouterFiles", "render_router_files"]


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
    network_json = render_network_json(network)
    setup_sh = render_setup_sh(dnsmasq_conf, nftables_nft, network_json, network)
    return RouterFiles(dnsmasq_conf, nftables_nft, network_json, setup_sh)
