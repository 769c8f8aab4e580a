"""LabNetwork: the lab bridge on every Proxmox host that carries a guest."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_proxmoxve as proxmoxve


@dataclass(frozen=True)
class LabNetworkArgs:
    bridge: str
    hosts: list[str]
    # Physical ports per host; without them each host's bridge is an island.
    ports: dict[str, list[str]] = field(default_factory=dict)
    # Optional address of a host on the bridge (otherwise the host has none there).
    host_addresses: dict[str, str] = field(default_factory=dict)


class LabNetwork(pulumi.ComponentResource):
    bridge_names: dict[str, pulumi.Output[str]]
    """The bridge's name on each host, resolved once the bridge exists there."""

    def __init__(self, name: str, args: LabNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:network:LabNetwork", name, None, opts)
        self.bridge_names = {}
        for host in args.hosts:
            bridge = proxmoxve.network.linux.Bridge(
                f"{name}-{host}",
                node_name=host,
                name=args.bridge,
                comment="homelab lab network (managed by Pulumi)",
                autostart=True,
                ports=args.ports.get(host, []),
                address=args.host_addresses.get(host),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.bridge_names[host] = bridge.name
        self.register_outputs({"bridgeNames": self.bridge_names})
