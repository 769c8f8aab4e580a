"""Kubernetes objects the program creates directly: content, and validity against schemas we did not write.

MetalLB's custom resources against the CRDs' openAPIV3Schema (closed, since the
API server prunes unknown fields of a structural schema without a word); every
other object against the official schemas (`kubernetes-validate`, strict) at
the cluster's Kubernetes minor.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator
from kubernetes_validate import utils as kubernetes_validate

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
from config.models import LabConfig
from tests.support import STACKS, require_schema, stack_config

Manifest = dict[str, Any]
Render = Callable[[LabConfig], Manifest]

BUILT_IN: dict[str, Render] = {
    "metallb-namespace": lambda _config: metallb_namespace(),
    "site-namespace": lambda _config: site_namespace(),
    "site-page": lambda config: site_page(config.site),
    "site-deployment": lambda config: site_deployment(config.site),
    "site-service": lambda _config: site_service(),
    "site-ingress": lambda config: site_ingress(config.site),
}
CUSTOM: dict[str, tuple[Render, str]] = {
    "ip-address-pool": (
        lambda config: ip_address_pool(str(config.load_balancer.pool)),
        "metallb-0.16.1.ipaddresspools.crd.yaml",
    ),
    "l2-advertisement": (lambda _config: l2_advertisement(), "metallb-0.16.1.l2advertisements.crd.yaml"),
}
ALL: dict[str, Render] = {**BUILT_IN, **{name: render for name, (render, _) in CUSTOM.items()}}

_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def _minor(version: str) -> tuple[int, int]:
    major, minor = version.removeprefix("v").split(".")[:2]
    return int(major), int(minor)


def schema_version(kubernetes_version: str) -> str:
    """The bundled schema set for the cluster's minor, else the nearest older one."""
    wanted = _minor(kubernetes_version)
    available = sorted({_minor(version) for version in kubernetes_validate.all_versions()})
    usable = [minor for minor in available if minor <= wanted]
    assert usable, f"kubernetes-validate has no schemas at or below {kubernetes_version}"
    return "{}.{}".format(*usable[-1])


def _served_schema(crd: Manifest, api_version: str) -> Manifest:
    group, version = api_version.split("/")
    assert crd["spec"]["group"] == group
    (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"] and v["storage"]]
    return served["schema"]["openAPIV3Schema"]


def closed(schema: Any) -> Any:
    """The schema with unknown fields refused wherever the API server would prune them."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in schema and not open_ended:
        result["additionalProperties"] = False
    return result


@cache
def _crd_validator(crd_file: str, api_version: str) -> Draft4Validator:
    (crd,) = list(yaml.safe_load_all(require_schema(crd_file).read_text(encoding="utf-8")))
    schema = closed(_served_schema(crd, api_version))
    # CRD schemas are OpenAPI v3.0 (JSON Schema draft 4 semantics).
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def _crd_errors(crd_file: str, manifest: Manifest) -> list[str]:
    errors = _crd_validator(crd_file, manifest["apiVersion"]).iter_errors(manifest)
    return [f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in errors]


def _object_meta_problems(manifest: Manifest) -> list[str]:
    """The CRD leaves `metadata` to the API server; check the little we set."""
    metadata = manifest["metadata"]
    problems = [f"unexpected metadata.{key}" for key in metadata if key not in {"name", "namespace", "labels"}]
    if not _DNS_SUBDOMAIN.match(metadata["name"]) or len(metadata["name"]) > 253:
        problems.append(f"metadata.name {metadata['name']!r} is not a DNS subdomain")
    problems += [f"label {k}={v!r} is not a string" for k, v in metadata["labels"].items() if not isinstance(v, str)]
    return problems


# --- against the schemas ----------------------------------------------------------------------


@pytest.mark.schemas
@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_object_passes_the_official_schema_strictly(name: str, stack: str) -> None:
    config = stack_config(stack)
    version = schema_version(config.cluster.kubernetes_version)
    # Exactly the cluster's minor (1.36 for the stacks here): no fallback taken.
    assert version == "{}.{}".format(*_minor(config.cluster.kubernetes_version))
    assert kubernetes_validate.validate(BUILT_IN[name](config), version, strict=True) == version


@pytest.mark.schemas
@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_metallb_resource_passes_its_crd_closed(name: str, stack: str) -> None:
    render, crd_file = CUSTOM[name]
    manifest = render(stack_config(stack))
    assert _crd_errors(crd_file, manifest) == []
    assert _object_meta_problems(manifest) == []


@pytest.mark.schemas
@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_crd_check_refuses_unknown_and_mistyped_fields(name: str) -> None:
    render, crd_file = CUSTOM[name]
    manifest = render(stack_config("dev"))
    typo = copy.deepcopy(manifest)
    typo["spec"]["adresses"] = ["10.0.0.0/24"]
    mistyped = copy.deepcopy(manifest)
    mistyped["spec"]["interfaces" if name == "l2-advertisement" else "autoAssign"] = "yes"
    assert _crd_errors(crd_file, typo) != []
    assert _crd_errors(crd_file, mistyped) != []


@pytest.mark.schemas
def test_strict_official_schema_refuses_unknown_fields() -> None:
    deployment = site_deployment(stack_config("dev").site)
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProb"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.36", strict=True)


def test_schema_version_falls_back_to_the_nearest_older_minor() -> None:
    newest = max(_minor(version) for version in kubernetes_validate.all_versions())
    assert schema_version(f"{newest[0]}.{newest[1] + 5}.0") == "{}.{}".format(*newest)
    assert schema_version("1.36.3") == "1.36"


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
    annotations = site_ingress(stack_config("dev").site)["metadata"]["annotations"]
    assert "traefik.ingress.kubernetes.io/router.tls" not in annotations
    assert "tls" not in site_ingress(stack_config("dev").site)["spec"]


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
    if manifest["kind"] != "Namespace":
        assert manifest["metadata"]["namespace"] in {SITE_NAMESPACE, "metallb-system"}


@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize("name", sorted(ALL))
def test_manifests_are_deterministic(name: str, stack: str) -> None:
    first, second = ALL[name](stack_config(stack)), ALL[name](stack_config(stack))
    assert json.dumps(first) == json.dumps(second)
    assert yaml.safe_load(yaml.safe_dump(first)) == first
