"""What the user chose in the stack, and what is left for them to do by hand (DESIGN §6).

The plan's summary shows both, so a newcomer sees every value they set (or took from the
defaults) in one place, and the steps no `pulumi up` can take for them.
"""

from __future__ import annotations

from typing import Any

from components import outputs
from config.guests import hosts_in_use
from config.models import LabConfig

FIREWALL_STEP = (
    "Proxmox: turn the datacenter firewall on, once, with a console at hand (until then Proxmox ignores the "
    "guests' firewall): check `pve-firewall localnet` covers where you manage Proxmox from, then "
    "`pvesh set /cluster/firewall/options --enable 1` (Datacenter > Firewall > Options > Firewall: Yes)"
)


def choices(config: LabConfig) -> dict[str, Any]:
    """Every choice of the stack that decides where the lab lives and how it is reached."""
    network, router, cluster = config.network, config.network.router, config.cluster
    return {
        "proxmoxHosts": list(config.proxmox.nodes),
        "hostsInUse": hosts_in_use(config),
        "vmDatastore": config.proxmox.vm_datastore,
        "isoDatastore": config.proxmox.iso_datastore,
        "wanBridge": config.proxmox.wan_bridge,
        "labBridge": network.bridge,
        "bridgePorts": {host: list(ports) for host, ports in network.bridge_ports.items()},
        "labCidr": str(network.cidr),
        "routerLan": str(router.address),
        "wanAddress": str(router.wan_address),
        "wanGateway": str(router.wan_gateway),
        "adminCidrs": [str(cidr) for cidr in network.admin_cidrs],
        "upstreamDns": [str(server) for server in network.upstream_dns],
        "dynamicRange": None
        if network.dynamic_range is None
        else f"{network.dynamic_range.start}-{network.dynamic_range.end}",
        "clusterName": cluster.name,
        "talosVersion": cluster.talos_version,
        "kubernetesVersion": cluster.kubernetes_version,
        "machineConfigContract": cluster.machine_config_contract,
        "vip": None if cluster.vip is None else str(cluster.vip),
        "pool": str(config.load_balancer.pool),
        "ingressAddress": str(config.load_balancer.ingress_address),
        "siteHost": config.site.host,
        "replicas": config.site.replicas,
        "sshPublicKeys": len(config.ssh_public_keys),
    }


def choice_lines(chosen: dict[str, Any]) -> list[str]:
    ports = "; ".join(f"{host}: {', '.join(names)}" for host, names in chosen["bridgePorts"].items())
    dynamic = f", dynamic DHCP {chosen['dynamicRange']}" if chosen["dynamicRange"] else ", reserved addresses only"
    keys = chosen["sshPublicKeys"]
    return [
        f"  Proxmox hosts:  {', '.join(chosen['proxmoxHosts'])} (in use: {', '.join(chosen['hostsInUse'])}); "
        f"disks on {chosen['vmDatastore']}, ISO and templates on {chosen['isoDatastore']}",
        f"  Bridges:        {chosen['wanBridge']} (home LAN, exists), {chosen['labBridge']} (lab, created)"
        + (f"; ports {ports}" if ports else ""),
        f"  WAN:            router {chosen['wanAddress']}, gateway {chosen['wanGateway']}",
        f"  Admins:         {', '.join(chosen['adminCidrs'])} (SSH 22, Kubernetes API 6443, Talos API 50000)",
        f"  Lab network:    {chosen['labCidr']}, router {chosen['routerLan']}{dynamic}; "
        f"DNS forwarded to {', '.join(chosen['upstreamDns'])}",
        f"  Cluster:        {chosen['clusterName']}: Talos {chosen['talosVersion']}, Kubernetes "
        f"{chosen['kubernetesVersion']}, machine config {chosen['machineConfigContract']}"
        + (f", VIP {chosen['vip']}" if chosen["vip"] else ""),
        f"  Load balancer:  pool {chosen['pool']}, ingress {chosen['ingressAddress']}",
        f"  Site:           {chosen['siteHost']}, {chosen['replicas']} nginx pods",
        f"  SSH keys:       {keys} of yours besides the program's own"
        if keys
        else "  SSH keys:       none of yours (the containers take only the program's own key: homelab:sshPublicKeys)",
    ]


def manual_steps(config: LabConfig, stack: str) -> list[str]:
    """What `pulumi up` cannot do, in the order a user does it."""
    admins = ", ".join(str(cidr) for cidr in config.network.admin_cidrs)
    routes = " and ".join(outputs.laptop_routes_linux(config))
    return [
        "Proxmox: an API token with the HomelabProvisioner role (README: pulumi up, step by step), set with "
        "`pulumi config set --secret proxmoxve:apiToken ...`",
        FIREWALL_STEP,
        f"this machine, before pulumi up: be in adminCidrs ({admins}) and add the routes: {routes} "
        "(macOS: the commands above)",
        f"this machine, after pulumi up: add `{outputs.hosts_line(config)}` to /etc/hosts",
        "this machine, after pulumi up: trust the lab CA for HTTPS: `pulumi stack output caCertificate > lab-ca.pem` "
        "(README: Trust the lab CA)",
        "this machine, after pulumi up: `pulumi stack output kubeconfig --show-secrets > kubeconfig` "
        "(and talosconfig); both are secrets",
        f"then `./dev check --stack {stack}`: every hop of the request path, from this machine",
    ]
