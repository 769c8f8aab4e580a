"""ContainerHostKey: a container's SSH host key, made here and installed at first contact."""

from __future__ import annotations

import pulumi
import pulumi_tls as tls
from pulumi_command import remote

from components.proxmox.host_key_files import install_host_key_command
from components.proxmox.remote import SshTarget, first_contact_connection


class ContainerHostKey(pulumi.ComponentResource):
    """After `target.installed`, `target.connection()` reaches this container and nothing else."""

    public_key: pulumi.Output[str]
    """The authorized_keys line of the host key (not secret): what known_hosts pins."""
    target: SshTarget

    def __init__(
        self,
        name: str,
        host: str,
        private_key: pulumi.Input[str],
        container: pulumi.Resource,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homelab:access:ContainerHostKey", name, None, opts)
        # A replaced container is a new machine: it gets a new key, and every command pinned to the
        # old one changes its connection and runs again.
        key = tls.PrivateKey(
            f"{name}-ed25519",
            algorithm="ED25519",
            opts=pulumi.ResourceOptions(
                parent=self,
                replace_with=[container],
                additional_secret_outputs=["privateKeyOpenssh", "privateKeyPem", "privateKeyPemPkcs8"],
            ),
        )
        self.public_key = key.public_key_openssh.apply(str.strip)
        # Trust on first use, once per container: this command alone does not check the host key. It
        # sends the new host key and nothing else (docs/security.md).
        installed = remote.Command(
            f"{name}-install",
            connection=first_contact_connection(host, private_key),
            create=install_host_key_command(),
            stdin=pulumi.Output.secret(key.private_key_openssh),
            logging=remote.Logging.NONE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[container], replace_with=[container]),
        )
        self.target = SshTarget(host=host, private_key=private_key, host_key=self.public_key, installed=installed)
        self.register_outputs({"publicKey": self.public_key})
