"""Router: the LXC between the home LAN (eth0) and the lab bridge (eth1).

Its files are rendered by `components.router.files` and pushed over SSH as one
script on stdin; a changed script is an update of the command, which runs it again
(pulumi-command runs `create` on update when no `update` command is given).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve
from pulumi_command import remote

from components.proxmox.containers import ContainerSpec, debian_container
from components.proxmox.guest_firewall import GuestFirewall, GuestFirewallArgs, GuestKind
from components.proxmox.host_key import ContainerHostKey
from components.proxmox.remote import RUN_STDIN_SCRIPT


@dataclass(frozen=True)
class RouterNic:
    bridge: pulumi.Input[str]
    mac: str
    address: str
    """Address with prefix length, e.g. 192.168.1.200/24."""
    mtu: int | None = None


@dataclass(frozen=True)
class RouterArgs:
    container: ContainerSpec
    hostname: str
    wan: RouterNic
    wan_gateway: str
    lan: RouterNic
    dns_servers: list[str]
    public_keys: pulumi.Input[list[str]]
    private_key: pulumi.Input[str]
    template_file_id: pulumi.Input[str]
    setup_script: str
    """The rendered script that installs and starts DHCP, DNS, NAT and the firewall."""


class Router(pulumi.ComponentResource):
    """Depend on the component to wait until DHCP, DNS, NAT and the firewall are in place."""

    wan_address: str
    lan_address: str
    host_key: pulumi.Output[str]

    def __init__(self, name: str, args: RouterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:network:Router", name, None, opts)
        self.wan_address = args.wan.address.split("/")[0]
        self.lan_address = args.lan.address.split("/")[0]
        container = debian_container(
            f"{name}-container",
            args.container,
            template_file_id=args.template_file_id,
            network_interfaces=[
                proxmoxve.ContainerLegacyNetworkInterfaceArgs(
                    name="eth0", bridge=args.wan.bridge, mac_address=args.wan.mac
                ),
                proxmoxve.ContainerLegacyNetworkInterfaceArgs(
                    name="eth1", bridge=args.lan.bridge, mac_address=args.lan.mac, firewall=True, mtu=args.lan.mtu
                ),
            ],
            initialization=proxmoxve.ContainerLegacyInitializationArgs(
                hostname=args.hostname,
                ip_configs=[
                    proxmoxve.ContainerLegacyInitializationIpConfigArgs(
                        ipv4=proxmoxve.ContainerLegacyInitializationIpConfigIpv4Args(
                            address=args.wan.address, gateway=args.wan_gateway
                        )
                    ),
                    proxmoxve.ContainerLegacyInitializationIpConfigArgs(
                        ipv4=proxmoxve.ContainerLegacyInitializationIpConfigIpv4Args(address=args.lan.address)
                    ),
                ],
                dns=proxmoxve.ContainerLegacyInitializationDnsArgs(servers=args.dns_servers),
                user_account=proxmoxve.ContainerLegacyInitializationUserAccountArgs(keys=args.public_keys),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        GuestFirewall(
            f"{name}-firewall",
            GuestFirewallArgs(
                node_name=args.container.host,
                vm_id=args.container.vm_id,
                kind=GuestKind.CONTAINER,
                nic_index=1,
                mac=args.lan.mac,
                # It forwards packets of other sources (WAN, internet replies) onto the bridge: no IP filter.
                addresses=[],
                guest=container,
                serves_dhcp=True,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        host_key = ContainerHostKey(
            f"{name}-host-key", self.wan_address, args.private_key, container, pulumi.ResourceOptions(parent=self)
        )
        self.host_key = host_key.public_key
        remote.Command(
            f"{name}-configure",
            connection=host_key.target.connection(),
            create=RUN_STDIN_SCRIPT.format(path="/root/homelab-router-setup.sh"),
            stdin=args.setup_script,
            # A replaced container is a blank Debian: push the configuration again (host and script are unchanged).
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[container, host_key.target.installed], replace_with=[container]
            ),
        )
        self.register_outputs(
            {"wanAddress": self.wan_address, "lanAddress": self.lan_address, "hostKey": self.host_key}
        )
