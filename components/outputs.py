"""What the user does on the laptop, derived from the config (pure)."""

from __future__ import annotations

from config.guests import lab_guests
from config.models import LabConfig


def _routed_networks(config: LabConfig) -> list[str]:
    return [str(config.network.cidr), str(config.load_balancer.pool)]


def laptop_routes_linux(config: LabConfig) -> list[str]:
    via = config.network.router.wan_address.ip
    return [f"sudo ip route add {network} via {via}" for network in _routed_networks(config)]


def laptop_routes_macos(config: LabConfig) -> list[str]:
    via = config.network.router.wan_address.ip
    return [f"sudo route -n add -net {network} {via}" for network in _routed_networks(config)]


def hosts_line(config: LabConfig) -> str:
    return f"{config.load_balancer.ingress_address} {config.site.host}"


def site_url(config: LabConfig) -> str:
    return f"http://{config.site.host}"


def site_https_url(config: LabConfig) -> str:
    return f"https://{config.site.host}"


def node_addresses(config: LabConfig) -> dict[str, str]:
    return {guest.name: str(guest.address) for guest in lab_guests(config) if guest.is_talos}


def request_path(config: LabConfig) -> list[str]:
    """The path of a browser request, DESIGN §1, with this stack's addresses."""
    router = config.network.router
    return [
        f"browser: {config.site.host} -> {config.load_balancer.ingress_address} (laptop /etc/hosts)",
        f"laptop: route {config.load_balancer.pool} via the router's WAN address {router.wan_address.ip}",
        f"router ({router.name}): forwards out eth1 ({router.address}), {config.load_balancer.pool} is on-link on "
        f"{config.network.bridge}",
        f"MetalLB (L2, pool {config.load_balancer.pool}): a worker answers ARP for "
        f"{config.load_balancer.ingress_address}",
        f"Traefik (Service LoadBalancer {config.load_balancer.ingress_address}, ports 80/443): "
        f"Ingress host {config.site.host}",
        "Service example-service:80 -> nginx pods",
    ]
