"""StorageAccess: the Proxmox role, user, token and ACLs the CSI plugin calls the API with.

Least privilege, from the plugin's own documentation and the Proxmox API it calls:
- the role holds exactly the privileges proxmox-csi-plugin v0.19.1 documents (docs/install.md, the
  chart's README "Proxmox permissions"; the longer list there is for ZFS replication, not used here);
- the token is privilege-separated, so it has only what its own ACLs grant (and the user holds too);
- the ACLs sit on the datastore the volumes live on and on each node VM, never on `/`. Creating and
  freeing volumes is checked on `/storage/<id>` (pve-storage PVE/API2/Storage/Content.pm create:
  Datastore.AllocateSpace, delete: Datastore.Allocate; listing: Datastore.Audit); attaching and
  detaching on `/vms/<id>` (qemu-server PVE/API2/Qemu.pm: VM.Config.Disk; the volume's own check,
  PVE/Storage.pm check_volume_access, passes with Datastore.Allocate on its storage); finding a node's
  VM reads /cluster/resources and the VM's config (VM.Audit; pve-manager PVE/API2/Cluster.pm lists only
  what the token may audit). A non-propagating ACL on a leaf path is all it needs.
Granting on those paths takes Datastore.Allocate / VM.Allocate there, not Permissions.Modify
(pve-access-control PVE/RPCEnvironment.pm check_perm_modify), so the program's own token needs none either.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve

# proxmox-csi-plugin v0.19.1 docs/install.md: `pveum role add CSI -privs "VM.Audit VM.Config.Disk
# Datastore.Allocate Datastore.AllocateSpace Datastore.Audit"`.
CSI_PRIVILEGES = ("Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.Audit", "VM.Audit", "VM.Config.Disk")
TOKEN_NAME = "csi"
REALM = "pve"


def role_id(lab_name: str) -> str:
    """Roles, users and ACLs are cluster-wide: each lab has its own, so destroying one leaves the other's."""
    return f"homelab-csi-{lab_name}"


def user_id(lab_name: str) -> str:
    return f"homelab-csi-{lab_name}@{REALM}"


def token_id(lab_name: str) -> str:
    return f"{user_id(lab_name)}!{TOKEN_NAME}"


@dataclass(frozen=True)
class NodeVm:
    vm_id: int
    vm: pulumi.Resource


@dataclass(frozen=True)
class StorageAccessArgs:
    lab_name: str
    datastore: str
    nodes: list[NodeVm]
    """Every Talos node's VM: volumes are attached to them."""


class StorageAccess(pulumi.ComponentResource):
    token_id: pulumi.Output[str]
    token_secret: pulumi.Output[str]

    def __init__(self, name: str, args: StorageAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:proxmox:StorageAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = proxmoxve.RoleLegacy(
            f"{name}-role", role_id=role_id(args.lab_name), privileges=list(CSI_PRIVILEGES), opts=child
        )
        # No password: the user cannot log in, only its token is used.
        user = proxmoxve.UserLegacy(
            f"{name}-user",
            user_id=user_id(args.lab_name),
            comment=f"homelab {args.lab_name}: Proxmox CSI plugin (managed by Pulumi)",
            enabled=True,
            opts=child,
        )
        token = proxmoxve.user.Token(
            f"{name}-token",
            user_id=user.user_id,
            token_name=TOKEN_NAME,
            privileges_separation=True,
            comment=f"homelab {args.lab_name}: Proxmox CSI plugin",
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["value"]),
        )
        # The token's value is `<user>!<token>=<secret>` (bpg proxmox/access/user_token.go CreateUserToken).
        self.token_id = token.id
        self.token_secret = pulumi.Output.secret(token.value.apply(lambda value: (value or "").partition("=")[2]))
        grantees: tuple[tuple[str, pulumi.Output[str] | None, pulumi.Output[str] | None], ...] = (
            ("user", user.user_id, None),
            ("token", None, token.id),
        )
        for principal, grant_user, grant_token in grantees:
            proxmoxve.Acl(
                f"{name}-{principal}-storage",
                path=f"/storage/{args.datastore}",
                role_id=role.role_id,
                user_id=grant_user,
                token_id=grant_token,
                propagate=False,
                opts=child,
            )
            for node in args.nodes:
                # Proxmox drops a VM's ACLs when it destroys the VM (qemu-server PVE/API2/Qemu.pm destroy_vm:
                # remove_vm_access), so the grant is made again once the replacement VM exists.
                proxmoxve.Acl(
                    f"{name}-{principal}-vm-{node.vm_id}",
                    path=f"/vms/{node.vm_id}",
                    role_id=role.role_id,
                    user_id=grant_user,
                    token_id=grant_token,
                    propagate=False,
                    opts=pulumi.ResourceOptions(
                        parent=self, depends_on=[node.vm], replace_with=[node.vm], delete_before_replace=True
                    ),
                )
        self.register_outputs({"tokenId": self.token_id})
