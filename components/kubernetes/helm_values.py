"""Chart coordinates and Helm values for MetalLB and Traefik (pure, DESIGN §3, §8).

Values stay minimal: only what this lab needs on top of each chart's defaults.
The tests validate them the way Helm does, merged over the chart's defaults,
against the chart's `values.schema.json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class HelmChart:
    release_name: str
    chart: str
    version: str
    repository: str
    namespace: str


# Chart versions pinned in DESIGN §8; the schemas and defaults in ../shared/schemas are from these releases.
METALLB_CHART = HelmChart(
    release_name="metallb",
    chart="metallb",
    version="0.16.1",
    repository="https://metallb.github.io/metallb",
    namespace="metallb-system",
)
TRAEFIK_CHART = HelmChart(
    release_name="traefik",
    chart="traefik",
    version="41.3.0",
    repository="https://traefik.github.io/charts",
    namespace="traefik",
)

INGRESS_CLASS = "traefik"
# The `metallb.universe.tf/` prefix is deprecated since MetalLB 0.13.
LOAD_BALANCER_IPS_ANNOTATION = "metallb.io/loadBalancerIPs"
HTTP_ENTRY_POINT = "web"
HTTPS_ENTRY_POINT = "websecure"
# The lab certificate as Traefik's default (TLSStore `default`), a Secret in Traefik's namespace.
DEFAULT_CERTIFICATE_SECRET = "lab-default-certificate"


def metallb_values(announce_from_control_planes: bool) -> dict[str, Any]:
    """L2 mode only: the native speaker, no BGP backend.

    Talos labels control planes `node.kubernetes.io/exclude-from-external-load-balancers`,
    so with workers the announcements come from them. A cluster without workers
    has nowhere else to announce from, so there the speaker ignores that label.
    """
    return {
        "speaker": {
            "frr": {"enabled": False},
            "ignoreExcludeLB": announce_from_control_planes,
        },
        # The frr-k8s subchart (on by default since 0.16) is only a BGP backend.
        "frrk8s": {"enabled": False},
    }


def traefik_values(ingress_address: str) -> dict[str, Any]:
    """Default ingress class `traefik`, Ingress provider on, LoadBalancer pinned to the ingress address,
    the lab certificate as the default one."""
    return {
        "ingressClass": {"enabled": True, "isDefaultClass": True, "name": INGRESS_CLASS},
        "providers": {
            "kubernetesIngress": {"enabled": True},
            # The TLSStore `default` counts only in Traefik's own namespace, not wherever someone creates one.
            "kubernetesCRD": {"enabled": True, "defaultTLSResourcesNamespace": TRAEFIK_CHART.namespace},
        },
        "ports": {
            HTTP_ENTRY_POINT: {"exposedPort": 80, "expose": {"default": True}},
            # Entry-point TLS applies to every router on websecure that has no TLS of its
            # own, served with the certificate matching the SNI, else the default one.
            HTTPS_ENTRY_POINT: {"exposedPort": 443, "expose": {"default": True}, "http": {"tls": {"enabled": True}}},
        },
        "tlsStore": {"default": {"defaultCertificate": {"secretName": DEFAULT_CERTIFICATE_SECRET}}},
        "service": {
            "spec": {"type": "LoadBalancer"},
            "annotations": {LOAD_BALANCER_IPS_ANNOTATION: ingress_address},
        },
    }
