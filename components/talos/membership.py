"""ClusterMembership: per node, a command on the Talos client whose delete takes the node out of the cluster.

Pulumi deletes dependents before what they depend on, so a command that depends on
a node's VM and machine config apply is deleted first: its `delete` runs the leave
script (`components.talos.leave_script`) while the node, the API and etcd still
run. Its `create` only records the script on the client (the same text, runnable by
hand); a changed script (the control planes changed) is an update, which records it
again. pulumi-command runs `delete` with the stdin of the last update
(provider/pkg/provider/remote/commandController.go, Delete -> run with the state).

No `replace_with` on the node's VM: a replacement's old command would be deleted
(and its leave run) after the new VM joined the cluster under the same address
and name, and would then drain and remove the new node. No `triggers` either, so
nothing else replaces it. Its edges to the VM, the apply and the client are
`depends_on` only, and the engine does not delete such a dependent when what it
depends on is replaced delete-before-replace (pulumi/pulumi
pkg/resource/deploy/step_generator.go, calculateDependentReplacements): a replaced
client container (a new SSH key) or VM runs no leave.

A second command, depending on every leave, is deleted first by `pulumi destroy`:
its delete leaves a marker that tells the leaves the whole lab goes, so they
neither drain nor shrink etcd one member at a time. Any other `pulumi up` keeps it
(its create removes a marker a failed destroy left behind).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from components.proxmox.remote import RUN_STDIN_SCRIPT
from components.talos.leave_script import LeaveSettings, LeaveTarget, Member, leave_script
from config.guests import Guest, Role

SETTINGS = LeaveSettings()
# Another node's leave (its drain, its etcd change) may hold the lock that long before this one runs.
LEAVE_TIMEOUT = f"{SETTINGS.lock_seconds + SETTINGS.drain_seconds + 600}s"
RECORD_SCRIPT = "install -m 0700 /dev/stdin {path}"


@dataclass(frozen=True)
class MemberNode:
    name: str
    """The TalosNode's resource name: the leave command is keyed like the node's other resources."""
    guest: Guest
    vm: pulumi.Resource
    apply: pulumi.Resource


@dataclass(frozen=True)
class ClusterMembershipArgs:
    connection: remote.ConnectionArgs
    client_ready: list[pulumi.Resource]
    """talosctl, kubectl and their configs on the client: they outlive every leave."""
    nodes: list[MemberNode]


def leave_path(node_name: str) -> str:
    return f"/root/homelab-leave-{node_name}.sh"


class ClusterMembership(pulumi.ComponentResource):
    leaves: dict[str, remote.Command]
    """By node resource name."""

    def __init__(self, name: str, args: ClusterMembershipArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:talos:ClusterMembership", name, None, opts)
        control_planes = [str(n.guest.address) for n in args.nodes if n.guest.role is Role.CONTROL_PLANE]
        self.leaves = {}
        for node in args.nodes:
            path = leave_path(node.name)
            target = LeaveTarget(
                name=node.guest.name,
                address=str(node.guest.address),
                role=Member.CONTROL_PLANE if node.guest.role is Role.CONTROL_PLANE else Member.WORKER,
                control_planes=control_planes,
            )
            self.leaves[node.name] = remote.Command(
                f"{node.name}-leave",
                connection=args.connection,
                create=RECORD_SCRIPT.format(path=path),
                delete=RUN_STDIN_SCRIPT.format(path=path),
                stdin=leave_script(target, SETTINGS),
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[node.vm, node.apply, *args.client_ready],
                    custom_timeouts=pulumi.CustomTimeouts(delete=LEAVE_TIMEOUT),
                ),
            )
        marker = SETTINGS.destroying_path
        self.whole_lab = remote.Command(
            f"{name}-whole-lab",
            connection=args.connection,
            create=f"rm -f {marker}",
            delete=f"touch {marker}",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*self.leaves.values(), *args.client_ready]),
        )
        self.register_outputs({})
