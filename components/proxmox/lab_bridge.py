"""LabNetwork: the lab segment on every Proxmox host that carries a guest.

`bridge`: a Linux bridge per host (its ports cable the hosts together). `vxlan` and `vlan`: one
Proxmox SDN zone and one VNet, the VNet being the lab bridge on every host of the zone. SDN objects
are only pending until an apply (`PUT /cluster/sdn`): the applier runs it after the zone and VNet
are created or change, and the finalizer, which both depend on, runs it again after they are
deleted, so a destroyed lab leaves no VNet behind (bpg docs/resources/sdn_applier.md, the
`finalizer` example; fwprovider/cluster/sdn/applier/resource.go: Create and Delete apply).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_proxmoxve as proxmoxve

COMMENT = "homelab lab network (managed by Pulumi)"


@dataclass(frozen=True)
class SdnSpec:
    """What the SDN zone and VNet are made of (`config.fabric.sdn_spec`)."""

    kind: str  # "vxlan" | "vlan"
    zone: str
    tag: int
    peers: list[str] = field(default_factory=list)  # vxlan: the hosts' underlay addresses
    uplink: str = ""  # vlan: the VLAN-aware bridge on each host


@dataclass(frozen=True)
class LabNetworkArgs:
    bridge: str
    hosts: list[str]
    # Physical ports per host; without them each host's bridge is an island.
    ports: dict[str, list[str]] = field(default_factory=dict)
    # Optional address of a host on the bridge (otherwise the host has none there).
    host_addresses: dict[str, str] = field(default_factory=dict)
    mtu: int | None = None
    """The lab MTU where it is not Ethernet's 1500."""
    sdn: SdnSpec | None = None


class LabNetwork(pulumi.ComponentResource):
    bridge_names: dict[str, pulumi.Output[str]]
    """The bridge's name on each host, resolved once the bridge exists there."""

    def __init__(self, name: str, args: LabNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:network:LabNetwork", name, None, opts)
        if args.sdn is None:
            self.bridge_names = {host: self._bridge(name, host, args) for host in args.hosts}
        else:
            vnet = self._sdn(name, args, args.sdn)
            self.bridge_names = dict.fromkeys(args.hosts, vnet)
        self.register_outputs({"bridgeNames": self.bridge_names})

    def _bridge(self, name: str, host: str, args: LabNetworkArgs) -> pulumi.Output[str]:
        return proxmoxve.network.linux.Bridge(
            f"{name}-{host}",
            node_name=host,
            name=args.bridge,
            comment=COMMENT,
            autostart=True,
            ports=args.ports.get(host, []),
            address=args.host_addresses.get(host),
            mtu=args.mtu,
            opts=pulumi.ResourceOptions(parent=self),
        ).name

    def _sdn(self, name: str, args: LabNetworkArgs, sdn: SdnSpec) -> pulumi.Output[str]:
        finalizer = proxmoxve.sdn.ApplierLegacy(f"{name}-sdn-finalizer", opts=pulumi.ResourceOptions(parent=self))
        after_finalizer = pulumi.ResourceOptions(parent=self, depends_on=[finalizer])
        zone: pulumi.CustomResource
        if sdn.kind == "vxlan":
            zone = proxmoxve.sdn.zone.VxlanLegacy(
                f"{name}-zone",
                resource_id=sdn.zone,
                nodes=args.hosts,
                peers=sdn.peers,
                mtu=args.mtu,
                opts=after_finalizer,
            )
        else:
            zone = proxmoxve.sdn.zone.VlanLegacy(
                f"{name}-zone",
                resource_id=sdn.zone,
                nodes=args.hosts,
                bridge=sdn.uplink,
                mtu=args.mtu,
                opts=after_finalizer,
            )
        vnet = proxmoxve.sdn.VnetLegacy(
            f"{name}-vnet",
            resource_id=args.bridge,
            zone=sdn.zone,
            tag=sdn.tag,
            alias=COMMENT.replace(" (managed by Pulumi)", ""),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[zone, finalizer]),
        )
        # Pulumi has no replace_triggered_by: a replacement of either, or any change of what they
        # are made of (a new host's peer, the MTU, the tag), makes the applier run again.
        applier = proxmoxve.sdn.ApplierLegacy(
            f"{name}-sdn-apply",
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[zone, vnet],
                replace_with=[zone, vnet],
                replacement_trigger=sdn_trigger(args, sdn),
            ),
        )
        # Guests attach only once the VNet exists on the hosts, i.e. after the apply. Its URN carries the
        # dependency and, unlike its id, stays known when the applier is replaced: no guest shows a change then.
        return pulumi.Output.all(vnet.resource_id, applier.urn).apply(lambda values: str(values[0]))


def sdn_trigger(args: LabNetworkArgs, sdn: SdnSpec) -> str:
    """Everything the zone and VNet are made of, as one line: a change of it means a new apply."""
    parts = [sdn.kind, sdn.zone, args.bridge, str(sdn.tag), ",".join(args.hosts), ",".join(sdn.peers)]
    return " ".join([*parts, sdn.uplink, str(args.mtu or "")]).strip()
