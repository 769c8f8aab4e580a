"""Names the router's files share: interfaces, ports, where each file lives on the router."""

from __future__ import annotations

WAN = "eth0"
LAN = "eth1"
HEADER = "rendered by homelab; do not edit"

ADMIN_PORTS = (22, 6443, 50000)  # SSH, Kubernetes API, Talos API
WEB_PORTS = (80, 443)

LEASE_FILE = "/var/lib/misc/dnsmasq.leases"
DNSMASQ_PATH = "/etc/dnsmasq.d/homelab.conf"
NFTABLES_PATH = "/etc/nftables.conf"
NETWORK_JSON_PATH = "/etc/homelab/network.json"
SYSCTL_PATH = "/etc/sysctl.d/99-homelab.conf"
NETWORK_UNIT = "homelab-network.service"
NFTABLES_DROP_IN_PATH = "/etc/systemd/system/nftables.service.d/homelab.conf"
