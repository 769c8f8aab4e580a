"""Registered inputs against the providers' Pulumi package schemas (DESIGN §7.4, §9).

`input_errors(token, inputs)` checks one registration's inputs (camelCase, as the engine
receives them) against the resource's `inputProperties`: every property known, every
`requiredInputs` present, and each value of its declared type, through `$ref`s to the
package's types (objects with their `required`, enums), arrays and maps. It knows nothing
of a particular resource, so it applies to any resource type of any package in
`schemas/providers/`.
"""

from __future__ import annotations

import functools
import gzip
import json
from typing import Any

from plan.monitor import SECRET, UNKNOWN
from tests.support import require_schemas

_TYPES_REF = "#/types/"
# The Pulumi schema's own types: anything, or an asset/archive (given as a path or a mapping).
_BUILTIN_REFS = ("pulumi.json#/Any", "pulumi.json#/Json", "pulumi.json#/Asset", "pulumi.json#/Archive")


@functools.cache
def provider_schema(package: str) -> dict[str, Any]:
    """The package schema `schemas/providers/<package>-<version>.schema.json.gz` (exactly one)."""
    folder = require_schemas() / "providers"
    paths = sorted(folder.glob(f"{package}-*.schema.json.gz"))
    assert len(paths) == 1, f"expected one schema for {package} in {folder}, found {[p.name for p in paths]}"
    return json.loads(gzip.decompress(paths[0].read_bytes()))


def resource_schema(token: str) -> dict[str, Any]:
    resources = provider_schema(token.split(":", 1)[0])["resources"]
    assert token in resources, f"{token} is not a resource of its provider's schema"
    return resources[token]


def input_errors(token: str, inputs: dict[str, Any]) -> list[str]:
    """Every way `inputs` breaks the schema of resource `token`; empty when they conform."""
    resource = resource_schema(token)
    checker = _Checker(provider_schema(token.split(":", 1)[0]))
    return checker.object(resource.get("inputProperties", {}), resource.get("requiredInputs", []), inputs, token)


class _Checker:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.types: dict[str, Any] = schema.get("types", {})

    def object(self, properties: dict[str, Any], required: list[str], value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return [f"{path}: expected an object, got {value!r}"]
        errors = [f"{path}.{name}: required, missing" for name in required if value.get(name) is None]
        for name, item in value.items():
            if name not in properties:
                errors.append(f"{path}.{name}: not a property of the schema")
            else:
                errors += self.value(properties[name], item, f"{path}.{name}")
        return errors

    def value(self, spec: dict[str, Any], value: Any, path: str) -> list[str]:
        if value is None or value in (SECRET, UNKNOWN):
            return []  # unset, or a secret / unknown placeholder: no value to check
        if "oneOf" in spec:
            options = [self.value(option, value, path) for option in spec["oneOf"]]
            return [] if any(not errors for errors in options) else [e for errors in options for e in errors]
        if "$ref" in spec:
            return self.ref(spec["$ref"], value, path)
        return self.typed(spec, value, path)

    def ref(self, ref: str, value: Any, path: str) -> list[str]:
        if ref in _BUILTIN_REFS:
            return []
        if not ref.startswith(_TYPES_REF):
            # A resource of another package (its id or URN) is a string.
            return [] if isinstance(value, str) else [f"{path}: expected a reference ({ref}), got {value!r}"]
        declared = self.types.get(ref.removeprefix(_TYPES_REF))
        if declared is None:
            return [f"{path}: the schema has no type {ref}"]
        if "enum" in declared:
            allowed = [entry["value"] for entry in declared["enum"]]
            return [] if value in allowed else [f"{path}: {value!r} is not one of {allowed}"]
        return self.object(declared.get("properties", {}), declared.get("required", []), value, path)

    def typed(self, spec: dict[str, Any], value: Any, path: str) -> list[str]:
        kind = spec.get("type")
        if kind == "array":
            if not isinstance(value, list):
                return [f"{path}: expected an array, got {value!r}"]
            return [e for index, item in enumerate(value) for e in self.value(spec["items"], item, f"{path}[{index}]")]
        if kind == "object":
            if not isinstance(value, dict):
                return [f"{path}: expected a map, got {value!r}"]
            item_spec = spec.get("additionalProperties", {})
            return [e for key, item in value.items() for e in self.value(item_spec, item, f"{path}.{key}")]
        if kind is None or _is(kind, value):
            return []
        return [f"{path}: expected {kind}, got {value!r}"]


def _is(kind: str, value: Any) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    if kind == "integer":
        # Numbers cross the engine's protobuf Struct as doubles.
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float)
    return kind == "string" and isinstance(value, str)
