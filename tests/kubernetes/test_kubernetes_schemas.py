"""Kubernetes objects the program creates directly, against schemas we did not write.

MetalLB's custom resources against the CRDs' openAPIV3Schema (closed, since the
API server prunes unknown fields of a structural schema without a word); every
other object against the official schemas (`kubernetes-validate`, strict) at
the cluster's Kubernetes minor. Their content: test_kubernetes_manifests.py.
"""

from __future__ import annotations

import copy
import re
from functools import cache

import pytest
import yaml
from jsonschema import Draft4Validator
from kubernetes_validate import utils as kubernetes_validate

from components.kubernetes.manifests import site_deployment
from tests.kubernetes.objects import BUILT_IN, CUSTOM, Manifest
from tests.support import STACKS, closed, require_schema, stack_config

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
