"""GuestFirewall: Proxmox's firewall on one guest NIC on the lab bridge.

What Proxmox's firewall does with each option is in pve-firewall's
`src/PVE/Firewall.pm` (`ruleset_create_vm_chain`, `generate_tap_layer2filter`):
- `macfilter`: frames and packets whose source MAC is not the NIC's are dropped.
- an IP set `ipfilter-net<N>`: packets (and ARP) whose source is not in it are dropped;
  IPv6 link-local from the NIC's MAC stays allowed.
- `dhcp`: accepts DHCP *client* traffic (to port 67, replies to 68) ahead of the MAC and
  IP filters, which DHCPDISCOVER from 0.0.0.0 needs; it allows or stops no server.
  bpg sends every option explicitly (proxmoxtf/resource/firewall/options.go), so an
  unset `dhcp` is `dhcp: 0` and an unset `radv` is `radv: 1`: both are set here.
- `radv: false`: router advertisements out of the guest are dropped.
Serving DHCP is stopped by a rule (out, UDP 67 -> 68 and 547 -> 546), left off the router's NIC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import pulumi
import pulumi_proxmoxve as proxmoxve

from config.guests import Role


class GuestKind(StrEnum):
    VM = "vm"
    CONTAINER = "container"


@dataclass(frozen=True)
class GuestFirewallArgs:
    node_name: str
    vm_id: int
    kind: GuestKind
    nic_index: int
    """The NIC's position: Proxmox calls it `net<index>`."""
    mac: str
    addresses: Sequence[str]
    """What the NIC may send from (addresses or networks); empty: no IP filter."""
    guest: pulumi.Resource
    """The VM or container: the firewall is set once it exists and again when it is replaced."""
    serves_dhcp: bool = False
    ssh_from: Sequence[str] = ()
    """When set, the guest's sshd is reachable from these sources only."""


def ip_filter_entries(addresses: Sequence[str]) -> list[str]:
    """IP set entries as Proxmox stores them: a host without `/32` (pve-firewall parse_ip_or_cidr)."""
    entries: list[str] = []
    for address in addresses:
        network = ipaddress.ip_network(address)
        entries.append(str(network.network_address) if network.num_addresses == 1 else str(network))
    return entries


def talos_shared_addresses(role: Role, pool: ipaddress.IPv4Network, vip: ipaddress.IPv4Address | None) -> list[str]:
    """What a Talos node sends from besides its reserved address.

    MetalLB's L2 speaker answers ARP for the pool and Traefik replies from it; which node
    announces is MetalLB's choice (a lone control plane does), so every node may. The
    control plane holding the VIP answers for it.
    """
    holds_vip = vip is not None and role is Role.CONTROL_PLANE
    return [str(pool), *([str(vip)] if holds_vip else [])]


def nic_rules(
    nic: str, serves_dhcp: bool, ssh_from: Sequence[str] = ()
) -> list[proxmoxve.firewall.RulesLegacyRuleArgs]:
    rules = [] if serves_dhcp else _no_dhcp_server(nic)
    if ssh_from:
        # Rules apply in order: the allowed sources first, then every other SSH client is dropped.
        rules += [
            proxmoxve.firewall.RulesLegacyRuleArgs(
                type="in",
                action="ACCEPT",
                iface=nic,
                proto="tcp",
                dport="22",
                source=",".join(ip_filter_entries(ssh_from)),
                comment="SSH from the admins and the router only",
            ),
            proxmoxve.firewall.RulesLegacyRuleArgs(
                type="in", action="DROP", iface=nic, proto="tcp", dport="22", comment="no SSH from the lab"
            ),
        ]
    return rules


def _no_dhcp_server(nic: str) -> list[proxmoxve.firewall.RulesLegacyRuleArgs]:
    return [
        proxmoxve.firewall.RulesLegacyRuleArgs(
            type="out", action="DROP", iface=nic, proto="udp", sport=sport, dport=dport, comment=comment
        )
        for sport, dport, comment in (
            ("67", "68", "no DHCP server on the lab bridge but the router"),
            ("547", "546", "no DHCPv6 server on the lab bridge"),
        )
    ]


class GuestFirewall(pulumi.ComponentResource):
    nic: str

    def __init__(self, name: str, args: GuestFirewallArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:proxmox:GuestFirewall", name, None, opts)
        self.nic = f"net{args.nic_index}"
        vm_id = args.vm_id if args.kind is GuestKind.VM else None
        container_id = args.vm_id if args.kind is GuestKind.CONTAINER else None
        # Fixed names on a fixed guest: delete before re-creating, and again whenever the guest is replaced
        # (its firewall configuration goes with it).
        child = pulumi.ResourceOptions(
            parent=self, depends_on=[args.guest], replace_with=[args.guest], delete_before_replace=True
        )
        before_enabling: list[pulumi.Resource] = []
        if args.addresses:
            before_enabling.append(
                proxmoxve.firewall.IpsetLegacy(
                    f"{name}-ipfilter",
                    node_name=args.node_name,
                    name=f"ipfilter-{self.nic}",
                    comment=f"{self.nic} ({args.mac}) may send from these only",
                    cidrs=[
                        proxmoxve.firewall.IpsetLegacyCidrArgs(name=entry)
                        for entry in ip_filter_entries(args.addresses)
                    ],
                    opts=child,
                    vm_id=vm_id,
                    container_id=container_id,
                )
            )
        rules = nic_rules(self.nic, args.serves_dhcp, args.ssh_from)
        if rules:
            before_enabling.append(
                proxmoxve.firewall.RulesLegacy(
                    f"{name}-rules",
                    node_name=args.node_name,
                    rules=rules,
                    opts=child,
                    vm_id=vm_id,
                    container_id=container_id,
                )
            )
        proxmoxve.firewall.OptionsLegacy(
            f"{name}-options",
            node_name=args.node_name,
            enabled=True,
            macfilter=True,
            ipfilter=bool(args.addresses),
            # DHCP clients only; the router serves DHCP and takes no lease on this NIC.
            dhcp=not args.serves_dhcp,
            ndp=True,
            radv=False,
            # Which flows may pass is the router's job (nftables); here only who may send what.
            input_policy="ACCEPT",
            output_policy="ACCEPT",
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=before_enabling)),
            vm_id=vm_id,
            container_id=container_id,
        )
        self.register_outputs({"nic": self.nic})
