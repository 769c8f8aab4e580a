"""MetalLB: L2 load balancer addresses for Services of type LoadBalancer."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.helm_release import helm_release
from components.kubernetes.helm_values import METALLB_CHART, metallb_values
from components.kubernetes.manifests import ip_address_pool, l2_advertisement, metallb_namespace
from components.kubernetes.objects import create_object
from config.models import LabConfig


@dataclass(frozen=True)
class MetalLBArgs:
    config: LabConfig
    provider: k8s.Provider


class MetalLB(pulumi.ComponentResource):
    pool_name: pulumi.Output[str]
    pool: pulumi.Resource
    """Ready once addresses can be handed out: depend on it before asking for one."""

    def __init__(self, name: str, args: MetalLBArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:MetalLB", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = create_object(f"{name}-namespace", metallb_namespace(), child)
        release = helm_release(
            f"{name}-release",
            METALLB_CHART,
            metallb_values(args.config),
            pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace])),
            create_namespace=False,
        )
        # The CRDs and the webhook that validates these objects come with the release.
        after_release = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[release]))
        pool_manifest = ip_address_pool(args.config)
        self.pool = create_object(f"{name}-pool", pool_manifest, after_release)
        advertisement = create_object(f"{name}-l2", l2_advertisement(args.config), after_release)
        self.pool_name = pulumi.Output.from_input(str(pool_manifest["metadata"]["name"]))
        self.ready: list[pulumi.Resource] = [self.pool, advertisement]
        self.register_outputs({"poolName": self.pool_name})
