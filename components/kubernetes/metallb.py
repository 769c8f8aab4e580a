"""MetalLB: L2 load balancer addresses for Services of type LoadBalancer."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_command import remote

from components.kubernetes.helm_release import helm_release
from components.kubernetes.helm_values import METALLB_CHART, metallb_values
from components.kubernetes.manifests import POOL_NAME, ip_address_pool, l2_advertisement, metallb_namespace
from components.proxmox.remote import RemoteHost
from components.shell_wait import Wait, wait_until

WEBHOOK_TIMEOUT_SECONDS = 300
OBJECTS_PATH = "/root/metallb-objects.yaml"
WAIT_FOR_ADMISSION = f"install -m 0600 /dev/stdin {OBJECTS_PATH} && " + wait_until(
    Wait(
        what="MetalLB's admission webhook to accept the pool and the L2 advertisement (kubectl apply --dry-run=server)",
        probe=f"kubectl apply --dry-run=server --request-timeout=20s -f {OBJECTS_PATH}",
        timeout_seconds=WEBHOOK_TIMEOUT_SECONDS,
        attempt_seconds=30,
    )
)


@dataclass(frozen=True)
class MetalLBArgs:
    pool: str
    """The address range MetalLB hands out (CIDR)."""
    announce_from_control_planes: bool
    """True when there are no workers: control planes are excluded from announcements by default."""
    kubectl: RemoteHost
    """Where kubectl can reach the cluster: the objects wait there until the admission webhook accepts them."""


class MetalLB(pulumi.ComponentResource):
    """The release, its namespace, the pool and its L2 advertisement.

    Depend on the component itself: Pulumi waits for all of its children.
    """

    pool_name: str

    def __init__(self, name: str, args: MetalLBArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:MetalLB", name, None, opts)
        self.pool_name = POOL_NAME
        namespace_manifest = metallb_namespace()
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=namespace_manifest["metadata"], opts=pulumi.ResourceOptions(parent=self)
        )
        release = helm_release(
            f"{name}-release",
            METALLB_CHART,
            metallb_values(args.announce_from_control_planes),
            create_namespace=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        # The CRDs and the webhook that validates these objects come with the release, but a ready
        # controller does not mean a serving webhook, and Pulumi does not retry an admission error
        # (https://github.com/metallb/metallb/issues/1597, https://github.com/metallb/metallb/issues/2566).
        # A server-side dry run of the very objects passes through the webhook: retry it until it does.
        objects = (("pool", ip_address_pool(args.pool)), ("l2", l2_advertisement()))
        webhook = remote.Command(
            f"{name}-webhook-ready",
            connection=args.kubectl.connection,
            create=WAIT_FOR_ADMISSION,
            stdin=yaml.safe_dump_all([manifest for _, manifest in objects], sort_keys=True),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[release, args.kubectl.ready], replace_with=[release]),
        )
        for suffix, manifest in objects:
            k8s.apiextensions.CustomResource(
                f"{name}-{suffix}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[release, webhook]),
            )
        self.register_outputs({"poolName": self.pool_name})
