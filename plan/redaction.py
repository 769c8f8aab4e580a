"""Recorded values, secret-safe: secrets as "[secret]", unknowns as "[unknown]"."""

from __future__ import annotations

import hashlib
import json
import secrets
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


# Per process: a digest compares two plans of one run and means nothing outside it.
_DIGEST_KEY = secrets.token_bytes(32)


def secret_digests(value: Any, path: str = "") -> dict[str, str]:
    """A keyed digest of each secret value by its path, so two plans can tell whether a secret changed
    without either of them holding or showing it."""
    if rpc.is_rpc_secret(value):
        plain = json.dumps(_plain(rpc.unwrap_rpc_secret(value)), sort_keys=True, default=str)
        return {path: hashlib.blake2b(plain.encode(), key=_DIGEST_KEY, digest_size=16).hexdigest()}
    digests: dict[str, str] = {}
    if isinstance(value, dict):
        for key in value:
            digests.update(secret_digests(value[key], f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            digests.update(secret_digests(item, f"{path}[{index}]"))
    return digests


def _plain(value: Any) -> Any:
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
