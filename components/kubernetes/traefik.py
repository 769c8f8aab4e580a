"""Traefik: the ingress controller, on the ingress address MetalLB announces."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.kubernetes.helm_release import helm_release
from components.kubernetes.helm_values import INGRESS_CLASS, TRAEFIK_CHART, traefik_values
from components.kubernetes.lab_ca import TlsKeyPair, tls_secret
from components.kubernetes.manifests import default_certificate_secret


@dataclass(frozen=True)
class TraefikArgs:
    ingress_address: str
    """The pool address its LoadBalancer Service is pinned to."""
    load_balancer: pulumi.Resource
    """MetalLB: the Service waits for an address from its pool, so the pool must exist first."""
    default_certificate: TlsKeyPair
    """Served on websecure for any name no Ingress `tls` covers."""


class Traefik(pulumi.ComponentResource):
    ingress_address: str
    ingress_class: str

    def __init__(self, name: str, args: TraefikArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:Traefik", name, None, opts)
        self.ingress_address = args.ingress_address
        self.ingress_class = INGRESS_CLASS
        release = helm_release(
            f"{name}-release",
            TRAEFIK_CHART,
            traefik_values(args.ingress_address),
            create_namespace=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.load_balancer]),
        )
        # The release creates the namespace. Traefik watches Secrets and takes the certificate
        # up when it appears, serving its generated one until then (traefik v3.7
        # pkg/provider/kubernetes/crd/client.go: a Secret informer per namespace feeds its events).
        tls_secret(
            f"{name}-default-certificate",
            default_certificate_secret(),
            args.default_certificate,
            pulumi.ResourceOptions(parent=self, depends_on=[release]),
        )
        self.register_outputs({"ingressAddress": self.ingress_address, "ingressClass": self.ingress_class})
