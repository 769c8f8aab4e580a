"""Router: the LXC between the home LAN (eth0) and the lab bridge (eth1).

Its files are rendered by `components.router.files` and pushed over SSH; the
push re-runs exactly when a rendered file changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve
from pulumi_command import remote

from components.proxmox.containers import ContainerSpec, debian_container
from components.proxmox.guest_firewall import GuestFirewall, GuestFirewallArgs, GuestKind
from components.proxmox.remote import RUN_STDIN_SCRIPT, content_hash, ssh_connection
from components.router.files import render_router_files
from config.guests import router_host, router_lan_mac, router_wan_mac
from config.models import LabConfig


@dataclass(frozen=True)
class RouterArgs:
    config: LabConfig
    lan_bridge: pulumi.Input[str]
    public_keys: pulumi.Input[list[str]]
    private_key: pulumi.Input[str]
    template_file_id: pulumi.Input[str]


class Router(pulumi.ComponentResource):
    wan_address: str
    lan_address: str
    ready: pulumi.Resource
    """Depend on this to wait until DHCP, DNS, NAT and the firewall are in place."""

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:network:Router", name, None, opts)
        config = args.config
        spec = config.network.router
        self.wan_address = str(spec.wan_address.ip)
        self.lan_address = str(spec.address)
        container = debian_container(
            f"{name}-container",
            ContainerSpec(
                host=router_host(config),
                vm_id=spec.vm_id,
                description="homelab router: DHCP/DNS for the lab, NAT and firewall to the home LAN",
                tags=["homelab", config.cluster.name, "router"],
                cores=spec.cores,
                memory_mib=spec.memory_mib,
                disk_gib=spec.disk_gib,
                datastore=config.proxmox.vm_datastore,
            ),
            template_file_id=args.template_file_id,
            network_interfaces=[
                proxmoxve.ContainerLegacyNetworkInterfaceArgs(
                    name="eth0", bridge=config.proxmox.wan_bridge, mac_address=router_wan_mac(config)
                ),
                proxmoxve.ContainerLegacyNetworkInterfaceArgs(
                    name="eth1", bridge=args.lan_bridge, mac_address=router_lan_mac(config), firewall=True
                ),
            ],
            initialization=proxmoxve.ContainerLegacyInitializationArgs(
                hostname=spec.name,
                ip_configs=[
                    proxmoxve.ContainerLegacyInitializationIpConfigArgs(
                        ipv4=proxmoxve.ContainerLegacyInitializationIpConfigIpv4Args(
                            address=str(spec.wan_address), gateway=str(spec.wan_gateway)
                        )
                    ),
                    proxmoxve.ContainerLegacyInitializationIpConfigArgs(
                        ipv4=proxmoxve.ContainerLegacyInitializationIpConfigIpv4Args(
                            address=f"{spec.address}/{config.network.cidr.prefixlen}"
                        )
                    ),
                ],
                dns=proxmoxve.ContainerLegacyInitializationDnsArgs(
                    servers=[str(server) for server in config.network.upstream_dns]
                ),
                user_account=proxmoxve.ContainerLegacyInitializationUserAccountArgs(keys=args.public_keys),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        GuestFirewall(
            f"{name}-firewall",
            GuestFirewallArgs(
                node_name=router_host(config),
                vm_id=spec.vm_id,
                kind=GuestKind.CONTAINER,
                nic_index=1,
                mac=router_lan_mac(config),
                # It forwards packets of other sources (WAN, internet replies) onto the bridge: no IP filter.
                addresses=[],
                guest=container,
                serves_dhcp=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        setup_script = render_router_files(config).setup_sh
        self.ready = remote.Command(
            f"{name}-configure",
            connection=ssh_connection(self.wan_address, args.private_key),
            create=RUN_STDIN_SCRIPT.format(path="/root/homelab-router-setup.sh"),
            stdin=setup_script,
            triggers=[content_hash(setup_script)],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[container]),
        )
        self.register_outputs({"wanAddress": self.wan_address, "lanAddress": self.lan_address})
