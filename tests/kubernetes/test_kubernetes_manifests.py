"""Kubernetes objects the program creates directly: what each says (MetalLB, the example site)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from components.kubernetes.manifests import (
    CONTAINER_PORT,
    HTML_DIR,
    PAGE_NAME,
    POOL_NAME,
    SERVICE_NAME,
    SITE_IMAGE,
    SITE_NAMESPACE,
    ip_address_pool,
    l2_advertisement,
    metallb_namespace,
    site_deployment,
    site_ingress,
    site_namespace,
    site_page,
    site_service,
)
from tests.kubernetes.objects import ALL
from tests.support import STACKS, stack_config

# --- content: MetalLB --------------------------------------------------------------------------


def test_metallb_namespace_is_privileged() -> None:
    labels = metallb_namespace()["metadata"]["labels"]
    assert metallb_namespace()["metadata"]["name"] == "metallb-system"
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "privileged"


@pytest.mark.parametrize(("stack", "pool"), [("dev", "10.10.10.0/24"), ("ha", "10.88.8.0/28")])
def test_pool_carries_the_configured_range(stack: str, pool: str) -> None:
    manifest = ip_address_pool(str(stack_config(stack).load_balancer.pool))
    assert manifest["apiVersion"] == "metallb.io/v1beta1"
    assert manifest["metadata"]["namespace"] == "metallb-system"
    assert manifest["spec"] == {"addresses": [pool]}


def test_l2_advertisement_announces_the_pool() -> None:
    advertisement = l2_advertisement()
    assert advertisement["metadata"]["namespace"] == "metallb-system"
    assert advertisement["spec"] == {
        "ipAddressPools": [ip_address_pool(str(stack_config("dev").load_balancer.pool))["metadata"]["name"]]
    }
    assert ip_address_pool(str(stack_config("ha").load_balancer.pool))["metadata"]["name"] == POOL_NAME


# --- content: the example site -----------------------------------------------------------------


@pytest.mark.parametrize(("stack", "host"), [("dev", "www.example.com"), ("ha", "site.lab.test")])
def test_ingress_routes_the_host_to_the_service_on_both_entry_points(stack: str, host: str) -> None:
    ingress = site_ingress(stack_config(stack).site)
    assert ingress["metadata"]["namespace"] == SITE_NAMESPACE
    assert ingress["metadata"]["annotations"] == {"traefik.ingress.kubernetes.io/router.entrypoints": "web,websecure"}
    spec = ingress["spec"]
    assert spec["ingressClassName"] == "traefik"
    (rule,) = spec["rules"]
    assert rule["host"] == host
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/", "Prefix")
    assert path["backend"] == {"service": {"name": "example-service", "port": {"number": 80}}}


def test_ingress_leaves_tls_to_the_websecure_entry_point() -> None:
    """`router.tls: "true"` would make Traefik ignore plain HTTP on web, and http://<host> would 404."""
    ingress = site_ingress(stack_config("dev").site)
    assert "traefik.ingress.kubernetes.io/router.tls" not in ingress["metadata"]["annotations"]
    assert ingress["spec"]["tls"] == [{"hosts": ["www.example.com"], "secretName": "example-site-tls"}]


def test_service_forwards_port_80_to_the_nginx_port() -> None:
    service = site_service()
    container = site_deployment(stack_config("dev").site)["spec"]["template"]["spec"]["containers"][0]
    assert service["metadata"]["name"] == SERVICE_NAME == "example-service"
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    (named,) = [p for p in container["ports"] if p["name"] == port["targetPort"]]
    assert named["containerPort"] == CONTAINER_PORT == 8080
    template_labels = site_deployment(stack_config("dev").site)["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= template_labels.items()


@pytest.mark.parametrize(("stack", "replicas"), [("dev", 2), ("ha", 3), ("minimal", 2)])
def test_deployment_replicas_follow_the_config(stack: str, replicas: int) -> None:
    assert site_deployment(stack_config(stack).site)["spec"]["replicas"] == replicas


def test_deployment_runs_the_pinned_image_ready_and_bounded() -> None:
    deployment = site_deployment(stack_config("dev").site)
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == SITE_IMAGE
    assert re.fullmatch(r"nginxinc/nginx-unprivileged:\d+\.\d+\.\d+-alpine", SITE_IMAGE)
    assert container["readinessProbe"]["httpGet"] == {"path": "/", "port": "http"}
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]


def test_pod_meets_pod_security_restricted() -> None:
    pod = site_deployment(stack_config("dev").site)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        assert context["runAsNonRoot"] is True
    allowed_volumes = {"configMap", "emptyDir", "secret", "projected", "downwardAPI", "persistentVolumeClaim"}
    assert all(set(volume) - {"name"} <= allowed_volumes for volume in pod["volumes"])
    assert not any(pod.get(key) for key in ("hostNetwork", "hostPID", "hostIPC"))


def test_site_namespace_enforces_restricted() -> None:
    namespace = site_namespace()
    assert namespace["metadata"]["name"] == SITE_NAMESPACE
    for mode in ("enforce", "audit", "warn"):
        assert namespace["metadata"]["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"


@pytest.mark.parametrize(("stack", "host"), [("dev", "www.example.com"), ("ha", "site.lab.test")])
def test_page_names_the_host_and_is_served_by_nginx(stack: str, host: str) -> None:
    page = site_page(stack_config(stack).site)
    assert page["metadata"]["name"] == PAGE_NAME
    assert f"<h1>{host}</h1>" in page["data"]["index.html"]
    pod = site_deployment(stack_config(stack).site)["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v.get("configMap", {}).get("name") == PAGE_NAME]
    (mount,) = [m for m in pod["containers"][0]["volumeMounts"] if m["name"] == volume["name"]]
    assert mount["mountPath"] == HTML_DIR == "/usr/share/nginx/html"


@pytest.mark.parametrize("name", sorted(ALL))
def test_manifests_are_complete(name: str) -> None:
    manifest = ALL[name](stack_config("dev"))
    assert {"apiVersion", "kind", "metadata"} <= set(manifest)
    assert manifest["metadata"]["name"]
    assert manifest["metadata"]["labels"]["app.kubernetes.io/part-of"] == "homelab"
    if manifest["kind"] not in {"Namespace", "StorageClass"}:  # cluster-scoped
        namespaces = {SITE_NAMESPACE, "metallb-system", "traefik", "csi-proxmox", "example-volume"}
        assert manifest["metadata"]["namespace"] in namespaces


@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize("name", sorted(ALL))
def test_manifests_are_plain_data(name: str, stack: str) -> None:
    manifest = ALL[name](stack_config(stack))
    assert json.loads(json.dumps(manifest)) == manifest
    assert yaml.safe_load(yaml.safe_dump(manifest)) == manifest
