"""Kubernetes objects and Helm releases reach the engine exactly as the SDK's typed classes send them.

`components.kubernetes.objects` and `components.kubernetes.helm_release` register them without
importing `pulumi_kubernetes.core.v1` & co. (0.2 s of `homelab plan`, issue 7); these
tests register every object the program creates both ways, under mocks, and compare
the RegisterResource requests field by field.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.stack import run_pulumi_func

# The same entry point `pulumi.runtime.mocks.test` uses; the SDK exposes no public one.
from pulumi.runtime.sync_await import _sync_await  # pyright: ignore[reportPrivateUsage]

from components.kubernetes.helm_release import helm_release
from components.kubernetes.helm_values import METALLB_CHART, TRAEFIK_CHART, HelmChart, metallb_values, traefik_values
from components.kubernetes.manifests import (
    ip_address_pool,
    l2_advertisement,
    metallb_namespace,
    site_deployment,
    site_ingress,
    site_namespace,
    site_page,
    site_service,
)
from components.kubernetes.objects import BUILT_IN_KINDS, Manifest, create_object
from plan.mocks import LabMocks
from plan.monitor import RecordingMonitor
from tests.support import REPO, stack_config

# Debugging aids that name the caller's source line, and the resource's own name.
_NOT_COMPARED = {"name", "stackTrace", "sourcePosition"}


class _RequestMonitor(RecordingMonitor):
    def __init__(self) -> None:
        super().__init__(LabMocks())
        self.requests: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            self.requests[request.name] = MessageToDict(request)
        return super().RegisterResource(request)


def _requests(program: Callable[[], None]) -> dict[str, dict[str, Any]]:
    monitor = _RequestMonitor()
    pulumi.runtime.set_mocks(monitor.mocks, project="homelab", stack="objects", preview=False, monitor=monitor)
    _sync_await(run_pulumi_func(program))
    return monitor.requests


def _comparable(request: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in request.items() if key not in _NOT_COMPARED}


def _manifests() -> list[Manifest]:
    config = stack_config("dev")
    return [
        metallb_namespace(),
        ip_address_pool(config),
        l2_advertisement(config),
        site_namespace(config),
        site_page(config),
        site_deployment(config),
        site_service(config),
        site_ingress(config),
    ]


def _typed_object(name: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The manifest as the SDK's own class for its kind (what the program registered before issue 7)."""
    metadata = manifest["metadata"]
    match manifest["apiVersion"], manifest["kind"]:
        case "v1", "Namespace":
            return k8s.core.v1.Namespace(name, metadata=metadata, opts=opts)
        case "v1", "ConfigMap":
            return k8s.core.v1.ConfigMap(name, metadata=metadata, data=manifest["data"], opts=opts)
        case "v1", "Service":
            return k8s.core.v1.Service(name, metadata=metadata, spec=manifest["spec"], opts=opts)
        case "apps/v1", "Deployment":
            return k8s.apps.v1.Deployment(name, metadata=metadata, spec=manifest["spec"], opts=opts)
        case "networking.k8s.io/v1", "Ingress":
            return k8s.networking.v1.Ingress(name, metadata=metadata, spec=manifest["spec"], opts=opts)
        case api_version, kind:
            return k8s.apiextensions.CustomResource(
                name, api_version=api_version, kind=kind, metadata=metadata, spec=manifest.get("spec"), opts=opts
            )


def _typed_release(
    name: str, chart: HelmChart, values: dict[str, Any], opts: pulumi.ResourceOptions, create_namespace: bool
) -> pulumi.CustomResource:
    return k8s.helm.v3.Release(
        name,
        name=chart.release_name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=chart.namespace,
        create_namespace=create_namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        opts=opts,
    )


def test_every_built_in_kind_is_compared() -> None:
    kinds = {(m["apiVersion"], m["kind"]) for m in _manifests()}
    assert set(BUILT_IN_KINDS) <= kinds
    assert kinds - set(BUILT_IN_KINDS), "a custom resource (CRD) kind is compared too"


def test_objects_and_releases_are_registered_as_the_sdk_registers_them() -> None:
    config = stack_config("dev")
    releases = [(METALLB_CHART, metallb_values(config), False), (TRAEFIK_CHART, traefik_values(config), True)]

    def program(typed: bool) -> None:
        provider = k8s.Provider("kubernetes", kubeconfig="{}", enable_server_side_apply=True)
        namespace = create_object("namespace", metallb_namespace(), pulumi.ResourceOptions(provider=provider))
        opts = pulumi.ResourceOptions(provider=provider, depends_on=[namespace])
        for index, manifest in enumerate(_manifests()):
            (_typed_object if typed else create_object)(f"object-{index}", manifest, opts)
        for chart, values, create_namespace in releases:
            (_typed_release if typed else helm_release)(chart.release_name, chart, values, opts, create_namespace)

    typed = _requests(lambda: program(typed=True))
    ours = _requests(lambda: program(typed=False))
    assert typed.keys() == ours.keys()
    for name in typed:
        assert _comparable(ours[name]) == _comparable(typed[name]), name


def test_a_plan_does_not_import_the_sdks_typed_kubernetes_classes() -> None:
    script = (
        "import json, sys\n"
        "from config.loading import load_stack_file\n"
        "from plan.run import run_plan\n"
        "run_plan(load_stack_file(__import__('pathlib').Path('Pulumi.dev.yaml')))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('pulumi_kubernetes.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120, check=True
    )
    loaded = json.loads(result.stdout)
    # The API groups themselves are lazy placeholders in sys.modules; their versions load everything.
    heavy = (
        "pulumi_kubernetes.core.",
        "pulumi_kubernetes.apps.",
        "pulumi_kubernetes.networking.",
        "pulumi_kubernetes.helm.",
    )
    assert not [module for module in loaded if module.startswith(heavy)], loaded
