"""ManagementKey: the SSH key this program uses to configure its containers."""

from __future__ import annotations

import pulumi
import pulumi_tls as tls


class ManagementKey(pulumi.ComponentResource):
    public_key: pulumi.Output[str]
    private_key: pulumi.Output[str]

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:access:ManagementKey", name, None, opts)
        key = tls.PrivateKey(
            f"{name}-ed25519",
            algorithm="ED25519",
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["privateKeyOpenssh", "privateKeyPem"]),
        )
        self.public_key = key.public_key_openssh.apply(str.strip)
        self.private_key = pulumi.Output.secret(key.private_key_openssh)
        self.register_outputs({"publicKey": self.public_key, "privateKey": self.private_key})
