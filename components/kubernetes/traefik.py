"""Traefik: the ingress controller, on the ingress address MetalLB announces."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.helm_release import HelmRelease, helm_release
from components.kubernetes.helm_values import TRAEFIK_CHART, traefik_values
from config.models import LabConfig

INGRESS_CLASS = "traefik"


@dataclass(frozen=True)
class TraefikArgs:
    config: LabConfig
    provider: k8s.Provider
    load_balancer_ready: list[pulumi.Resource]


class Traefik(pulumi.ComponentResource):
    ingress_address: str
    ingress_class: str
    release: HelmRelease

    def __init__(self, name: str, args: TraefikArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:Traefik", name, None, opts)
        self.ingress_address = str(args.config.load_balancer.ingress_address)
        self.ingress_class = INGRESS_CLASS
        # Its Service waits for an address from the pool, so the pool must exist first.
        self.release = helm_release(
            f"{name}-release",
            TRAEFIK_CHART,
            traefik_values(args.config),
            pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=args.load_balancer_ready),
            create_namespace=True,
        )
        self.register_outputs({"ingressAddress": self.ingress_address, "ingressClass": self.ingress_class})
