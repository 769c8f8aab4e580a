"""ExampleSite: nginx behind the Ingress for the configured host."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.manifests import site_deployment, site_ingress, site_namespace, site_page, site_service
from components.kubernetes.objects import create_object
from config.models import LabConfig


@dataclass(frozen=True)
class ExampleSiteArgs:
    config: LabConfig
    provider: k8s.Provider
    ingress_controller: pulumi.Resource


class ExampleSite(pulumi.ComponentResource):
    url: str

    def __init__(self, name: str, args: ExampleSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:ExampleSite", name, None, opts)
        config = args.config
        self.url = f"http://{config.site.host}"
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        namespace = create_object(f"{name}-namespace", site_namespace(config), child)
        in_namespace = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[namespace]))
        # The workload starts while MetalLB and Traefik install; only the Ingress needs Traefik.
        page = create_object(f"{name}-page", site_page(config), in_namespace)
        create_object(
            f"{name}-deployment",
            site_deployment(config),
            pulumi.ResourceOptions.merge(in_namespace, pulumi.ResourceOptions(depends_on=[page])),
        )
        create_object(f"{name}-service", site_service(config), in_namespace)
        create_object(
            f"{name}-ingress",
            site_ingress(config),
            pulumi.ResourceOptions.merge(in_namespace, pulumi.ResourceOptions(depends_on=[args.ingress_controller])),
        )
        self.register_outputs({"url": self.url})
