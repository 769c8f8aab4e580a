"""ClusterUpgrade: one command on the Talos client that rolls the cluster to the configured versions.

The script (`components.talos.upgrade_script`) is the command's stdin, so a new
Talos version, installer image, Kubernetes version or node list changes it and
`pulumi up` runs `create` again as an update (never a replacement: `triggers` would
force one). A failed run leaves the command failed, so the next `pulumi up` runs it
again; the script skips what is already done.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from components.proxmox.remote import RUN_STDIN_SCRIPT, SshTarget
from components.talos.upgrade_script import RolloutTarget, rollout_script

SCRIPT_PATH = "/root/homelab-upgrade.sh"
# A rollout drains and reboots every node in turn; Pulumi must not give up on it early.
ROLLOUT_TIMEOUT = "4h"


@dataclass(frozen=True)
class ClusterUpgradeArgs:
    client: SshTarget
    talos_version: str
    kubernetes_version: str
    schematic_id: pulumi.Input[str]
    installer_image: pulumi.Input[str]
    control_planes: list[str]
    workers: list[str]
    after: list[pulumi.Resource]
    """Every machine config apply, the bootstrap, the client's tools and configs, and its health gate."""


class ClusterUpgrade(pulumi.ComponentResource):
    def __init__(self, name: str, args: ClusterUpgradeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:talos:ClusterUpgrade", name, None, opts)
        script = pulumi.Output.all(args.schematic_id, args.installer_image).apply(
            lambda values: rollout_script(
                RolloutTarget(
                    talos_version=args.talos_version,
                    schematic_id=values[0],
                    installer_image=values[1],
                    kubernetes_version=args.kubernetes_version,
                    control_planes=args.control_planes,
                    workers=args.workers,
                )
            )
        )
        self.rollout = remote.Command(
            f"{name}-rollout",
            connection=args.client.connection(),
            create=RUN_STDIN_SCRIPT.format(path=SCRIPT_PATH),
            stdin=script,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[args.client.installed, *args.after],
                custom_timeouts=pulumi.CustomTimeouts(create=ROLLOUT_TIMEOUT, update=ROLLOUT_TIMEOUT),
            ),
        )
        self.register_outputs({})
