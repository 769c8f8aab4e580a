"""MetalLB: L2 load balancer addresses for Services of type LoadBalancer."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.helm_release import helm_release
from components.kubernetes.helm_values import METALLB_CHART, metallb_values
from components.kubernetes.manifests import POOL_NAME, ip_address_pool, l2_advertisement, metallb_namespace


@dataclass(frozen=True)
class MetalLBArgs:
    pool: str
    """The address range MetalLB hands out (CIDR)."""
    announce_from_control_planes: bool
    """True when there are no workers: control planes are excluded from announcements by default."""


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
        # The CRDs and the webhook that validates these objects come with the release.
        for suffix, manifest in (("pool", ip_address_pool(args.pool)), ("l2", l2_advertisement())):
            k8s.apiextensions.CustomResource(
                f"{name}-{suffix}",
                api_version=manifest["apiVersion"],
                kind=manifest["kind"],
                metadata=manifest["metadata"],
                spec=manifest["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[release]),
            )
        self.register_outputs({"poolName": self.pool_name})
