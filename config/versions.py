"""Versions this program is built and tested against.

The Talos minor is tied to the machinery bundled in pulumiverse-talos 0.8.1
(Talos 1.13) and to the config schema the tests validate patches against.
Kubernetes minors are the ones Talos 1.13 supports
(https://www.talos.dev/v1.13/introduction/support-matrix/).
"""

from __future__ import annotations

import re

SUPPORTED_TALOS_MINORS = ((1, 13),)
SUPPORTED_KUBERNETES_MINORS = tuple((1, minor) for minor in range(31, 37))

_TALOS = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
_CONTRACT = re.compile(r"^v(\d+)\.(\d+)$")
_KUBERNETES = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


def _minors(minors: tuple[tuple[int, int], ...], prefix: str) -> str:
    return ", ".join(f"{prefix}{major}.{minor}.x" for major, minor in minors)


def check_talos_version(text: str) -> str:
    match = _TALOS.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a Talos version (expected vMAJOR.MINOR.PATCH, e.g. v1.13.9)")
    if (int(match[1]), int(match[2])) not in SUPPORTED_TALOS_MINORS:
        raise ValueError(f"{text} is not supported (supported: {_minors(SUPPORTED_TALOS_MINORS, 'v')})")
    return text


def check_config_contract(text: str) -> str:
    """A machine config contract: the Talos minor whose config format the configs are generated for."""
    match = _CONTRACT.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a Talos config contract (expected vMAJOR.MINOR, e.g. v1.13)")
    if (int(match[1]), int(match[2])) not in SUPPORTED_TALOS_MINORS:
        supported = ", ".join(f"v{major}.{minor}" for major, minor in SUPPORTED_TALOS_MINORS)
        raise ValueError(f"{text} is not supported (supported: {supported})")
    return text


def check_kubernetes_version(text: str) -> str:
    match = _KUBERNETES.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a Kubernetes version (expected MAJOR.MINOR.PATCH, e.g. 1.36.3)")
    if (int(match[1]), int(match[2])) not in SUPPORTED_KUBERNETES_MINORS:
        raise ValueError(
            f"{text} is not supported with Talos 1.13 (supported: {_minors(SUPPORTED_KUBERNETES_MINORS, '')})"
        )
    return text.removeprefix("v")
