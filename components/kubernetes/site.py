"""ExampleSite: nginx behind the Ingress for the configured host."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.lab_ca import TlsKeyPair, tls_secret
from components.kubernetes.manifests import (
    site_deployment,
    site_ingress,
    site_namespace,
    site_page,
    site_service,
    site_tls_secret,
)
from config.models import SiteConfig


@dataclass(frozen=True)
class ExampleSiteArgs:
    site: SiteConfig
    ingress_controller: pulumi.Resource
    """The Ingress waits for it (its class and admission); the workload does not."""
    certificate: TlsKeyPair
    """For the host, named by the Ingress's `tls`."""


class ExampleSite(pulumi.ComponentResource):
    url: str
    https_url: str

    def __init__(self, name: str, args: ExampleSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:ExampleSite", name, None, opts)
        site = args.site
        self.url = f"http://{site.host}"
        self.https_url = f"https://{site.host}"
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=site_namespace()["metadata"], opts=pulumi.ResourceOptions(parent=self)
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        # The workload starts while MetalLB and Traefik install; only the Ingress needs Traefik.
        page = site_page(site)
        config_map = k8s.core.v1.ConfigMap(
            f"{name}-page", metadata=page["metadata"], data=page["data"], opts=in_namespace
        )
        deployment = site_deployment(site)
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=deployment["metadata"],
            spec=deployment["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, config_map]),
        )
        service = site_service()
        k8s.core.v1.Service(f"{name}-service", metadata=service["metadata"], spec=service["spec"], opts=in_namespace)
        certificate = tls_secret(f"{name}-tls", site_tls_secret(), args.certificate, in_namespace)
        ingress = site_ingress(site)
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata=ingress["metadata"],
            spec=ingress["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, certificate, args.ingress_controller]),
        )
        self.register_outputs({"url": self.url, "httpsUrl": self.https_url})
