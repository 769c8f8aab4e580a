"""DatacenterFirewall: Proxmox's firewall switched on, so each guest NIC's MAC and IP filters apply.

pve-firewall builds no guest chains while the datacenter firewall is off
(`src/PVE/Firewall.pm`, `compile`: nothing but the `PVEFW-*` skeleton unless
`cluster.fw` has `enable: 1`). Policies ACCEPT: turning it on locks no one out of
the hosts; the guest NICs' own options (macfilter, ipfilter, dhcp, radv) do the work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_proxmoxve as proxmoxve

from config.storage import PROXMOX_API_PORT

# pveproxy (8006), sshd (22), spiceproxy (3128): what a lab guest could reach on a host with an address on
# the lab bridge.
MANAGEMENT_PORTS = "22,3128,8006"


@dataclass(frozen=True)
class DatacenterFirewallArgs:
    manage: bool
    """False: the stack says the datacenter firewall is the admin's (then nothing here turns it on)."""
    lab_cidr: str
    bridge: str
    hosts_on_lab: list[str] = field(default_factory=list)
    """Hosts with an address on the lab bridge: the lab may not reach their management ports."""
    api_clients: list[str] = field(default_factory=list)
    """Lab addresses that may reach the API (8006) all the same: the control planes, where the storage
    plugin's controller runs and calls it (config.storage)."""


class DatacenterFirewall(pulumi.ComponentResource):
    """Depend on the component for guest firewalls that are in force."""

    def __init__(self, name: str, args: DatacenterFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:proxmox:DatacenterFirewall", name, None, opts)
        if args.manage:
            proxmoxve.cluster.FirewallLegacy(
                f"{name}-options",
                enabled=True,
                ebtables=True,
                input_policy="ACCEPT",
                output_policy="ACCEPT",
                forward_policy="ACCEPT",
                # One setting for the whole Proxmox cluster, other labs' guards included: `pulumi destroy`
                # leaves it on (bpg's delete only forgets it, proxmoxtf/resource/cluster/firewall/firewall.go
                # `firewallDelete`; retained here so no provider version switches it off).
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            )
        for host in args.hosts_on_lab:
            proxmoxve.firewall.RulesLegacy(
                f"{name}-{host}-management",
                node_name=host,
                rules=[
                    *(
                        proxmoxve.firewall.RulesLegacyRuleArgs(
                            type="in",
                            action="ACCEPT",
                            iface=args.bridge,
                            source=f"{client}/32",
                            proto="tcp",
                            dport=str(PROXMOX_API_PORT),
                            comment="homelab: the storage plugin's controller calls the API",
                        )
                        for client in args.api_clients
                    ),
                    proxmoxve.firewall.RulesLegacyRuleArgs(
                        type="in",
                        action="DROP",
                        iface=args.bridge,
                        source=args.lab_cidr,
                        proto="tcp",
                        dport=MANAGEMENT_PORTS,
                        comment="homelab: no Proxmox management from the lab",
                    ),
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({})
