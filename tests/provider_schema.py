"""Registered inputs and invoke arguments against the providers' Pulumi package schemas (DESIGN §7.4, §9).

A schema is found by the package of a type token (`proxmoxve:index/vmLegacy:VmLegacy` ->
`proxmoxve-<version>.schema.json.gz` in `<schemas>/providers`). A resource's inputs are
checked against its `inputProperties` and `requiredInputs`, an invoke's arguments against
its function's `inputs`, a provider's against the schema's `provider`. Property names must
exist, required ones be present, values have the declared type, nested objects (`$ref` to
`#/types/...`) recursively. The plan's placeholders "[secret]" and "[unknown]" stand for a
value of any type; a property the provider marks secret must be sent as a secret. Nothing
here knows a particular resource: it applies to any type of any package in `schemas/providers/`.
"""

from __future__ import annotations

import functools
import gzip
import json
from pathlib import Path
from typing import Any

from plan.redaction import SECRET, UNKNOWN
from tests.support import require_schemas

Schema = dict[str, Any]

PROVIDER_PREFIX = "pulumi:providers:"
LOCAL_TYPES = ("#/types/", "#types/")
"""The second spelling is in pulumiverse-talos 0.8.1's own schema (`machineSecrets`' types); its SDK reads both."""
# The Pulumi schema's own types: anything, or an asset/archive (given as a path or a mapping).
ANY_VALUE = {"pulumi.json#/Any", "pulumi.json#/Json", "pulumi.json#/Asset", "pulumi.json#/Archive"}
ANY: Schema = {"$ref": "pulumi.json#/Any"}
PLACEHOLDERS = {SECRET, UNKNOWN}
# Registered by the Kubernetes SDK's overlay class `apiextensions.CustomResource` under the
# kind's own token (`kubernetes:metallb.io/v1beta1:IPAddressPool`); the package schema lists
# no such resource, and the overlay declares only these inputs, everything else is the kind's.
CUSTOM_RESOURCE: Schema = {
    "inputProperties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"$ref": "#/types/kubernetes:meta/v1:ObjectMeta"},
    },
    "requiredInputs": ["apiVersion", "kind"],
    "additionalProperties": {"$ref": "pulumi.json#/Any"},
}


def require_provider_schemas() -> Path:
    """`<schemas>/providers`; skips the test when it is absent (fails in CI)."""
    return require_schemas("providers") / "providers"


def input_errors(token: str, inputs: dict[str, Any]) -> list[str]:
    """Every way `inputs` break the schema of resource `token`; empty when they conform."""
    return SchemaChecker(require_provider_schemas()).resource_problems(token, inputs)


def resource_schema(token: str) -> Schema:
    """The schema of resource `token` in its provider's package schema."""
    schema: Schema = package_schema(require_provider_schemas(), package_of(token))["resources"][token]
    return schema


def package_of(token: str) -> str:
    return token.removeprefix(PROVIDER_PREFIX).split(":", 1)[0]


@functools.cache
def package_schema(providers_dir: Path, package: str) -> Schema:
    """The package schema of `package` (exactly one file per package)."""
    (path,) = sorted(providers_dir.glob(f"{package}-*.schema.json.gz")) or [None]
    if path is None:
        raise LookupError(f"no schema for package {package} in {providers_dir}")
    schema: Schema = json.loads(gzip.decompress(path.read_bytes()))
    return schema


class SchemaChecker:
    """Checks values against the package schemas in `providers_dir`."""

    def __init__(self, providers_dir: Path) -> None:
        self.providers_dir = providers_dir

    def resource_problems(self, token: str, inputs: dict[str, Any]) -> list[str]:
        schema = package_schema(self.providers_dir, package_of(token))
        if token.startswith(PROVIDER_PREFIX):
            spec = schema["provider"]
            inputs = _provider_values(spec.get("inputProperties", {}), inputs)
        elif token in schema["resources"]:
            spec = schema["resources"][token]
        elif package_of(token) == "kubernetes":
            spec = CUSTOM_RESOURCE
        else:
            return [f"{token}: no such resource in the {package_of(token)} schema"]
        shape = {
            "properties": spec.get("inputProperties", {}),
            "required": spec.get("requiredInputs", []),
            "additionalProperties": spec.get("additionalProperties"),
        }
        return _Walk(schema, secrets=True).object(shape, inputs, token)

    def invoke_problems(self, token: str, args: dict[str, Any]) -> list[str]:
        schema = package_schema(self.providers_dir, package_of(token))
        function = schema.get("functions", {}).get(token)
        if function is None:
            return [f"{token}: no such function in the {package_of(token)} schema"]
        # The SDK unwraps secrets before an invoke (the protocol has none), so no secret is expected here.
        return _Walk(schema, secrets=False).object(function.get("inputs", {}), args, token)


class _Walk:
    def __init__(self, schema: Schema, *, secrets: bool) -> None:
        self.schema = schema
        self.secrets = secrets

    def object(self, shape: Schema, value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {_kind(value)}"]
        properties: dict[str, Schema] = shape.get("properties", {})
        extra: Schema | None = shape.get("additionalProperties")
        required = shape.get("required", [])
        problems = [f"{path}.{name}: required, missing" for name in required if value.get(name) is None]
        for name, item in value.items():
            spec = properties.get(name, extra)
            if spec is None:
                problems.append(f"{path}.{name}: not a property of the schema")
            elif self.secrets and spec.get("secret") and item != SECRET:
                problems.append(f"{path}.{name}: the provider marks it secret, sent in clear text")
            else:
                problems += self.value(spec, item, f"{path}.{name}")
        return problems

    def value(self, spec: Schema, value: Any, path: str) -> list[str]:
        """What is wrong with `value` as a value of `spec` (a property or type definition)."""
        if value is None or (isinstance(value, str) and value in PLACEHOLDERS):
            return []  # unset, or a secret / unknown placeholder: no value to check
        if "oneOf" in spec:
            options = [self.value(option, value, path) for option in spec["oneOf"]]
            return [] if any(not found for found in options) else min(options, key=len)
        if "$ref" in spec:
            return self.reference(spec["$ref"], value, path)
        return _constraint_problems(spec, value, path) or self.typed(spec, value, path)

    def typed(self, spec: Schema, value: Any, path: str) -> list[str]:
        kind = spec.get("type")
        if kind == "array":
            return self.array(spec.get("items", ANY), value, path)
        if kind == "object":
            return self.object(spec, value, path) if "properties" in spec else self.map(spec, value, path)
        if kind is None:
            return [f"{path}: the schema gives no type ({sorted(spec)})"]
        return [] if _is_scalar(kind, value) else [f"{path}: expected {kind}, got {value!r}"]

    def array(self, items: Schema, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            return [f"{path}: expected an array, got {_kind(value)}"]
        return [problem for index, item in enumerate(value) for problem in self.value(items, item, f"{path}[{index}]")]

    def map(self, spec: Schema, value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {_kind(value)}"]
        values = spec.get("additionalProperties", ANY)
        return [problem for key, item in value.items() for problem in self.value(values, item, f"{path}.{key}")]

    def reference(self, reference: str, value: Any, path: str) -> list[str]:
        if reference in ANY_VALUE:
            return []
        if reference.startswith("/"):  # a resource of another package: its id or URN
            return [] if isinstance(value, str) else [f"{path}: expected a reference ({reference}), got {value!r}"]
        prefix = next((p for p in LOCAL_TYPES if reference.startswith(p)), None)
        definition = self.schema["types"].get(reference.removeprefix(prefix)) if prefix else None
        if definition is None:
            return [f"{path}: no schema type {reference}"]
        return self.value(definition, value, path)


def _provider_values(properties: dict[str, Schema], inputs: dict[str, Any]) -> dict[str, Any]:
    """A provider's inputs as typed values: its SDK sends every non-string input JSON-encoded."""
    decoded = dict(inputs)
    for name, value in inputs.items():
        declared = properties.get(name, {}).get("type", "string")
        if declared != "string" and isinstance(value, str) and value not in PLACEHOLDERS:
            decoded[name] = json.loads(value)
    return decoded


def _constraint_problems(spec: Schema, value: Any, path: str) -> list[str]:
    if "const" in spec and value != spec["const"]:
        return [f"{path}: must be {spec['const']!r}, is {value!r}"]
    if "enum" in spec and value not in [option["value"] for option in spec["enum"]]:
        return [f"{path}: {value!r} is none of the allowed values"]
    return []


def _is_scalar(kind: str, value: Any) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    if kind == "integer":  # numbers cross the engine's protobuf Struct as doubles
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float)
    return kind == "string" and isinstance(value, str)


_KINDS = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), type(value).__name__)
