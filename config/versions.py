"""Versions this program is built and tested against.

The Talos minor is tied to the machinery bundled in pulumiverse-talos 0.8.1
(Talos 1.13) and to the config schema the tests validate patches against.
Kubernetes minors are the ones Talos 1.13 supports
(https://www.talos.dev/v1.13/introduction/support-matrix/).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema

from config.messages import describe, quoted

SUPPORTED_TALOS_MINORS = ((1, 13),)
SUPPORTED_KUBERNETES_MINORS = tuple((1, minor) for minor in range(31, 37))

# ASCII digits, no leading zeros, nothing after the patch number (not even a newline): the
# version is rendered into download URLs and image names.
_NUMBER = "(0|[1-9][0-9]{0,5})"
_TALOS = re.compile(rf"v{_NUMBER}\.{_NUMBER}\.{_NUMBER}")
_KUBERNETES = re.compile(rf"v?{_NUMBER}\.{_NUMBER}\.{_NUMBER}")
_CONTRACT = re.compile(rf"v{_NUMBER}\.{_NUMBER}")


def minors(minors: tuple[tuple[int, int], ...], prefix: str) -> str:
    return ", ".join(f"{prefix}{major}.{minor}.x" for major, minor in minors)


def check_talos_version(text: str) -> str:
    match = _TALOS.fullmatch(text)
    if not match:
        raise ValueError(f"{quoted(text)} is not a Talos version (expected vMAJOR.MINOR.PATCH, e.g. v1.13.9)")
    if (int(match[1]), int(match[2])) not in SUPPORTED_TALOS_MINORS:
        raise ValueError(f"{text} is not supported (supported: {minors(SUPPORTED_TALOS_MINORS, 'v')})")
    return text


def check_config_contract(text: str) -> str:
    """A machine config contract: the Talos minor whose config format the configs are generated for."""
    match = _CONTRACT.fullmatch(text)
    if not match:
        raise ValueError(f"{quoted(text)} is not a Talos config contract (expected vMAJOR.MINOR, e.g. v1.13)")
    if (int(match[1]), int(match[2])) not in SUPPORTED_TALOS_MINORS:
        supported = ", ".join(f"v{major}.{minor}" for major, minor in SUPPORTED_TALOS_MINORS)
        raise ValueError(f"{text} is not supported (supported: {supported})")
    return text


def check_kubernetes_version(text: str) -> str:
    match = _KUBERNETES.fullmatch(text)
    if not match:
        raise ValueError(f"{quoted(text)} is not a Kubernetes version (expected MAJOR.MINOR.PATCH, e.g. 1.36.3)")
    if (int(match[1]), int(match[2])) not in SUPPORTED_KUBERNETES_MINORS:
        raise ValueError(
            f"{text} is not supported with Talos 1.13 (supported: {minors(SUPPORTED_KUBERNETES_MINORS, '')})"
        )
    return text.removeprefix("v")


def _talos_version(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a Talos version, got {describe(value)}")
    return check_talos_version(value)


def _config_contract(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a Talos minor, got {describe(value)}")
    return check_config_contract(value)


def _kubernetes_version(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a Kubernetes version, got {describe(value)}")
    return check_kubernetes_version(value)


def _schema(title: str, description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "title": title, "description": description})


TalosVersion = Annotated[
    str,
    BeforeValidator(_talos_version),
    _schema(
        "Talos version",
        f"vMAJOR.MINOR.PATCH in ASCII digits, no leading zeros; supported: {minors(SUPPORTED_TALOS_MINORS, 'v')}.",
    ),
]
ConfigContract = Annotated[
    str,
    BeforeValidator(_config_contract),
    _schema("Talos minor", f"vMAJOR.MINOR; supported: {minors(SUPPORTED_TALOS_MINORS, 'v')[:-2]}."),
]
KubernetesVersion = Annotated[
    str,
    BeforeValidator(_kubernetes_version),
    _schema(
        "Kubernetes version",
        f"MAJOR.MINOR.PATCH in ASCII digits, no leading zeros; supported: {minors(SUPPORTED_KUBERNETES_MINORS, '')}.",
    ),
]
