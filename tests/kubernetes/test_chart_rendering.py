"""The real Traefik and MetalLB charts rendered by `helm template` with the values the program registers.

The values tests check what we give the charts; these check what the charts make
of it: the Traefik Deployment's arguments, its Service and its TLSStore, and the
MetalLB speaker. Charts come from `<shared>/charts`, helm from `require_helm`.
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator

from components.kubernetes.helm_values import LOAD_BALANCER_IPS_ANNOTATION, METALLB_CHART, TRAEFIK_CHART, HelmChart
from plan.registered import kubernetes_manifests
from tests.support import closed, require_chart, require_helm, stack_config, stack_plan

Manifest = dict[str, Any]

pytestmark = pytest.mark.schemas


@functools.cache
def _rendered(chart: HelmChart, stack: str) -> tuple[Manifest, ...]:
    """The chart's objects for the values registered for its release in the stack's plan."""
    folder = require_chart(chart.chart, chart.version)
    helm = require_helm()
    (release,) = [r for r in stack_plan(stack).registrations if r.inputs.get("name") == chart.release_name]
    with tempfile.TemporaryDirectory() as tmp:
        values = Path(tmp) / "values.json"
        values.write_text(json.dumps(release.inputs["values"]), encoding="utf-8")
        command = [str(helm), "template", chart.release_name, str(folder), "--namespace", chart.namespace]
        result = subprocess.run(
            [*command, "--values", str(values)], capture_output=True, text=True, check=False, timeout=120
        )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def _one(objects: tuple[Manifest, ...], kind: str, name: str | None = None) -> Manifest:
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _traefik_args(stack: str) -> list[str]:
    deployment = _one(_rendered(TRAEFIK_CHART, stack), "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container["args"]


def _container_port(stack: str, name: str) -> int:
    deployment = _one(_rendered(TRAEFIK_CHART, stack), "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    (port,) = [p for p in container["ports"] if p["name"] == name]
    return port["containerPort"]


# --- Traefik --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_websecure_terminates_tls_and_web_stays_plain_http(stack: str) -> None:
    args = _traefik_args(stack)
    websecure, web = _container_port(stack, "websecure"), _container_port(stack, "web")
    assert f"--entryPoints.websecure.address=:{websecure}/tcp" in args
    assert f"--entryPoints.web.address=:{web}/tcp" in args
    assert "--entryPoints.websecure.http.tls=true" in args
    # No TLS on web and no redirect to websecure: http://<host> keeps answering.
    assert not [a for a in args if a.startswith("--entryPoints.web.http")]


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_both_providers_read_the_cluster_and_the_default_tls_store_is_traefiks_own(stack: str) -> None:
    args = _traefik_args(stack)
    assert "--providers.kubernetesingress" in args
    assert "--providers.kubernetescrd" in args
    assert f"--providers.kubernetescrd.defaultTLSResourcesNamespace={TRAEFIK_CHART.namespace}" in args


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_default_certificate_is_the_lab_certificate_secret(stack: str) -> None:
    """The TLSStore names the Secret the program creates, in the same namespace, holding the lab certificate."""
    store = _one(_rendered(TRAEFIK_CHART, stack), "TLSStore", "default")
    secrets = [m for m in kubernetes_manifests(stack_plan(stack).registrations) if m["kind"] == "Secret"]
    (secret,) = [s for s in secrets if s["metadata"]["namespace"] == store["metadata"]["namespace"]]
    assert store["metadata"]["namespace"] == TRAEFIK_CHART.namespace
    assert store["spec"] == {"defaultCertificate": {"secretName": secret["metadata"]["name"]}}
    assert secret["type"] == "kubernetes.io/tls"


def _tls_store_validator() -> Draft4Validator:
    folder = require_chart(TRAEFIK_CHART.chart, TRAEFIK_CHART.version)
    crd = yaml.safe_load((folder / "crds" / "traefik.io_tlsstores.yaml").read_text(encoding="utf-8"))
    (version,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
    return Draft4Validator(closed(version["schema"]["openAPIV3Schema"]))


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_tls_store_passes_its_crd_closed(stack: str) -> None:
    store = _one(_rendered(TRAEFIK_CHART, stack), "TLSStore", "default")
    validator = _tls_store_validator()
    assert [e.message for e in validator.iter_errors({**store, "metadata": {}})] == []
    typo = {**store, "metadata": {}, "spec": {"defaultCertificat": store["spec"]["defaultCertificate"]}}
    assert list(validator.iter_errors(typo)) != []


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_service_is_a_load_balancer_on_the_ingress_address_with_80_and_443(stack: str) -> None:
    service = _one(_rendered(TRAEFIK_CHART, stack), "Service")
    assert service["spec"]["type"] == "LoadBalancer"
    address = str(stack_config(stack).load_balancer.ingress_address)
    assert service["metadata"]["annotations"][LOAD_BALANCER_IPS_ANNOTATION] == address
    ports = {p["port"]: p["targetPort"] for p in service["spec"]["ports"]}
    assert ports == {80: "web", 443: "websecure"}


def test_ingress_class_is_traefik_and_the_default() -> None:
    ingress_class = _one(_rendered(TRAEFIK_CHART, "dev"), "IngressClass", "traefik")
    assert ingress_class["metadata"]["annotations"]["ingressclass.kubernetes.io/is-default-class"] == "true"


# --- MetalLB --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("stack", "ignore_exclude"), [("dev", False), ("minimal", True)])
def test_metallb_speaker_is_native_l2_only(stack: str, ignore_exclude: bool) -> None:
    objects = _rendered(METALLB_CHART, stack)
    speaker = _one(objects, "DaemonSet")
    assert [c["name"] for c in speaker["spec"]["template"]["spec"]["containers"]] == ["speaker"]
    (container,) = speaker["spec"]["template"]["spec"]["containers"]
    assert ("--ignore-exclude-lb" in container["args"]) is ignore_exclude
    assert not [o for o in objects if "frr" in o["metadata"]["name"]]
    controller = _one(objects, "Deployment")
    assert "--webhook-mode=enabled" in controller["spec"]["template"]["spec"]["containers"][0]["args"]
    assert {o["metadata"].get("namespace") for o in objects} <= {METALLB_CHART.namespace, None}
