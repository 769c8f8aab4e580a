"""Recorded values, secret-safe: secrets as "[secret]", unknowns as "[unknown]"."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc

SECRET = "[secret]"
UNKNOWN = "[unknown]"


def has_unknowns(value: Any) -> bool:
    """Whether a deserialised value holds an unknown (only a preview sends them)."""
    if value is rpc.UNKNOWN or value == rpc.UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknowns(item) for item in value.values())
    if isinstance(value, list):
        return any(has_unknowns(item) for item in value)
    return False


def redact(value: Any, path: str = "") -> tuple[Any, list[str]]:
    """Replace secret values by "[secret]" (recording their paths) and unknowns by "[unknown]"."""
    if rpc.is_rpc_secret(value):
        return SECRET, [path]
    if value is rpc.UNKNOWN or value == rpc.UNKNOWN:
        return UNKNOWN, []
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        secrets: list[str] = []
        for key in sorted(value):
            result[key], found = redact(value[key], f"{path}.{key}" if path else str(key))
            secrets += found
        return result, secrets
    if isinstance(value, list):
        items = [redact(item, f"{path}[{index}]") for index, item in enumerate(value)]
        return [item for item, _ in items], [p for _, found in items for p in found]
    if isinstance(value, float) and value.is_integer():
        return int(value), []  # the wire format has only doubles
    return value, []


def key_paths(value: Any, path: str = "") -> list[str]:
    """Dotted key paths of nested mappings, looking through secret wrappers."""
    if rpc.is_rpc_secret(value):
        return key_paths(rpc.unwrap_rpc_secret(value), path)
    if not isinstance(value, dict):
        return []
    paths: list[str] = []
    for key in sorted(value):
        child = f"{path}.{key}" if path else str(key)
        paths += [child, *key_paths(value[key], child)]
    return paths
