"""Helm values of MetalLB and Traefik: content per stack, and validity against each chart's schema.

Helm validates `values.schema.json` against the chart's defaults deep-merged
with the values given (DESIGN §9); the schema tests do the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator, Draft6Validator, Draft7Validator, Draft201909Validator, Draft202012Validator
from jsonschema.protocols import Validator

from components.kubernetes.helm_values import (
    INGRESS_CLASS,
    LOAD_BALANCER_IPS_ANNOTATION,
    METALLB_CHART,
    TRAEFIK_CHART,
    HelmChart,
    metallb_values,
    traefik_values,
)
from config.models import LabConfig
from tests.support import STACKS, named, require_schema, stack_config, stack_plan

Values = dict[str, Any]
RELEASES: dict[str, tuple[HelmChart, Callable[[LabConfig], Values]]] = {
    "metallb": (METALLB_CHART, lambda config: metallb_values(not config.cluster.workers)),
    "traefik": (TRAEFIK_CHART, lambda config: traefik_values(str(config.load_balancer.ingress_address))),
}
# Keys whose value is a free-form map (their own keys are not the chart's; a TLSStore's
# spec is checked against its CRD in test_chart_rendering).
FREE_FORM = {("service", "annotations"), ("tlsStore",)}

# `$schema` URIs as charts write them (with or without https, trailing '#').
_DRAFTS: dict[str, type[Validator]] = {
    "json-schema.org/draft-04/schema": Draft4Validator,
    "json-schema.org/draft-06/schema": Draft6Validator,
    "json-schema.org/draft-07/schema": Draft7Validator,
    "json-schema.org/draft/2019-09/schema": Draft201909Validator,
    "json-schema.org/draft/2020-12/schema": Draft202012Validator,
}


def helm_merge(defaults: Values, overrides: Values) -> Values:
    """Helm's coalescing of user values over chart defaults: maps merge, anything else replaces, null deletes."""
    merged = dict(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = helm_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validator_class(schema: Values) -> type[Validator]:
    """The draft the schema declares; jsonschema alone does not know the https spelling of draft-07."""
    uri = str(schema.get("$schema", "")).split("://", 1)[-1].rstrip("#")
    if uri not in _DRAFTS:
        raise AssertionError(f"unknown $schema {schema.get('$schema')!r}")
    return _DRAFTS[uri]


def _chart_file(chart: HelmChart, suffix: str) -> Path:
    return require_schema(f"{chart.chart}-{chart.version}.{suffix}")


def _defaults(chart: HelmChart) -> Values:
    return yaml.safe_load(_chart_file(chart, "values.yaml").read_text(encoding="utf-8"))


def _validator(chart: HelmChart) -> Validator:
    schema = json.loads(_chart_file(chart, "values.schema.json").read_text(encoding="utf-8"))
    cls = validator_class(schema)
    cls.check_schema(schema)
    return cls(schema)


def _errors(chart: HelmChart, values: Values) -> list[str]:
    found = _validator(chart).iter_errors(helm_merge(_defaults(chart), values))
    return [f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in found]


def _key_paths(values: Values, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for key, value in values.items():
        path = (*prefix, key)
        yield path
        if isinstance(value, dict) and path not in FREE_FORM:
            yield from _key_paths(value, path)


def _has_path(values: Values, path: tuple[str, ...]) -> bool:
    current: Any = values
    for key in path:
        if not isinstance(current, dict) or key not in current:
            return False
        current = current[key]
    return True


# --- against the charts' schemas and defaults -------------------------------------------------


@pytest.mark.schemas
@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize("release", sorted(RELEASES))
def test_values_pass_the_chart_schema_merged_over_the_defaults(release: str, stack: str) -> None:
    chart, render = RELEASES[release]
    assert _errors(chart, render(stack_config(stack))) == []


@pytest.mark.schemas
@pytest.mark.parametrize("release", sorted(RELEASES))
def test_every_key_is_one_the_chart_defines(release: str) -> None:
    """The schemas leave some maps open; a misspelt key there would be silently ignored by the chart."""
    chart, render = RELEASES[release]
    defaults = _defaults(chart)
    unknown = [".".join(path) for path in _key_paths(render(stack_config("dev"))) if not _has_path(defaults, path)]
    assert unknown == []


@pytest.mark.schemas
@pytest.mark.parametrize(
    ("release", "bad"),
    [
        ("traefik", {"ingressClass": {"nmae": "traefik"}}),
        ("traefik", {"ports": {"websecure": {"exposedPort": "443"}}}),
        ("metallb", {"speaker": {"frr": {"enabled": "no"}}}),
        ("metallb", {"speaker": {"logLevel": "verbose"}}),
    ],
)
def test_the_schema_check_rejects_bad_values(release: str, bad: Values) -> None:
    chart, render = RELEASES[release]
    assert _errors(chart, helm_merge(render(stack_config("dev")), bad)) != []


@pytest.mark.schemas
@pytest.mark.parametrize("release", sorted(RELEASES))
def test_schema_draft_is_the_one_declared(release: str) -> None:
    expected = {"metallb": Draft7Validator, "traefik": Draft202012Validator}[release]
    assert type(_validator(RELEASES[release][0])) is expected


def test_helm_merge_follows_helm() -> None:
    defaults = {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"}
    assert helm_merge(defaults, {"a": {"b": 3}, "d": [9], "e": None}) == {"a": {"b": 3, "c": 2}, "d": [9]}
    assert defaults == {"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"}


# --- content -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chart", "coordinates"),
    [
        (METALLB_CHART, ("metallb", "metallb", "0.16.1", "https://metallb.github.io/metallb", "metallb-system")),
        (TRAEFIK_CHART, ("traefik", "traefik", "41.3.0", "https://traefik.github.io/charts", "traefik")),
    ],
)
def test_chart_coordinates_are_pinned(chart: HelmChart, coordinates: tuple[str, ...]) -> None:
    assert astuple(chart) == coordinates


@pytest.mark.parametrize(("stack", "address"), [("dev", "10.10.10.10"), ("ha", "10.88.8.5")])
def test_traefik_service_is_pinned_to_the_ingress_address(stack: str, address: str) -> None:
    service = traefik_values(str(stack_config(stack).load_balancer.ingress_address))["service"]
    assert service["spec"]["type"] == "LoadBalancer"
    assert service["annotations"] == {LOAD_BALANCER_IPS_ANNOTATION: address}
    assert LOAD_BALANCER_IPS_ANNOTATION == "metallb.io/loadBalancerIPs"


def test_traefik_is_the_default_ingress_class_and_reads_ingresses() -> None:
    values = traefik_values(str(stack_config("dev").load_balancer.ingress_address))
    assert TRAEFIK_CHART.release_name == INGRESS_CLASS == "traefik"
    assert values["ingressClass"] == {"enabled": True, "isDefaultClass": True, "name": "traefik"}
    assert values["providers"]["kubernetesIngress"]["enabled"] is True


def test_traefik_exposes_web_and_websecure_with_tls() -> None:
    ports = traefik_values(str(stack_config("dev").load_balancer.ingress_address))["ports"]
    assert sorted(ports) == ["web", "websecure"]
    assert ports["web"]["exposedPort"] == 80
    assert ports["websecure"]["exposedPort"] == 443
    assert all(port["expose"] == {"default": True} for port in ports.values())
    assert ports["websecure"]["http"]["tls"] == {"enabled": True}
    assert "http" not in ports["web"]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_metallb_runs_the_native_l2_speaker_only(stack: str) -> None:
    values = metallb_values(not stack_config(stack).cluster.workers)
    assert values["speaker"]["frr"] == {"enabled": False}
    assert values["frrk8s"] == {"enabled": False}


@pytest.mark.parametrize(("stack", "announce_from_control_planes"), [("dev", False), ("ha", False), ("minimal", True)])
def test_metallb_announces_from_control_planes_only_without_workers(
    stack: str, announce_from_control_planes: bool
) -> None:
    release = named(stack_plan(stack), "metallb-release")
    assert release.inputs["values"]["speaker"]["ignoreExcludeLB"] is announce_from_control_planes


@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize("release", sorted(RELEASES))
def test_values_are_plain_data(release: str, stack: str) -> None:
    values = RELEASES[release][1](stack_config(stack))
    assert json.loads(json.dumps(values)) == values
