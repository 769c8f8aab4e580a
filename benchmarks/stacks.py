"""Generated stacks of any size, derived from the example stack (shared by the benchmark and the tests).

`scaled_stack` is pure: it returns a stack file document (the shape of `Pulumi.dev.yaml`)
with the example's settings and a lab subnet big enough for the requested nodes.
"""

from __future__ import annotations

import copy
import functools
import ipaddress
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_STACK = REPO / "Pulumi.dev.yaml"

# A /23 next to the example's home LAN (192.168.0.0/24, the router's WAN side): 510 usable
# addresses. Layout: router .2.1, VIP .2.10, control planes from .2.11, client .2.250,
# workers from .3.1.
LAN = ipaddress.IPv4Network("192.168.2.0/23")
ROUTER_ADDRESS = LAN[1]
VIP_ADDRESS = LAN[10]
FIRST_CONTROL_PLANE = LAN[11]
CLIENT_ADDRESS = LAN[250]
FIRST_WORKER = LAN[257]
MAX_CONTROL_PLANES = 239  # .2.11 .. .2.249
MAX_WORKERS = 254  # .3.1 .. .3.254

ROUTER_VM_ID = 200
CLIENT_VM_ID = 299
FIRST_CONTROL_PLANE_VM_ID = 201
FIRST_WORKER_VM_ID = 1001


@functools.cache
def _example_text() -> str:
    return EXAMPLE_STACK.read_text(encoding="utf-8")


def example_stack() -> dict[str, Any]:
    """The example stack file as a document (a fresh copy on every call)."""
    document: dict[str, Any] = yaml.safe_load(_example_text())
    return document


def scaled_stack(workers: int, control_planes: int, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The example stack (or `base`) with `control_planes` + `workers` Talos nodes on a /23.

    More than one control plane gets a VIP. Names, addresses and VM ids are unique and
    deterministic; everything else (versions, pool, site, hosts) is taken from the base.
    """
    if not 1 <= control_planes <= MAX_CONTROL_PLANES:
        raise ValueError(f"control_planes must be 1..{MAX_CONTROL_PLANES}, not {control_planes}")
    if not 0 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be 0..{MAX_WORKERS}, not {workers}")
    document = copy.deepcopy(base) if base is not None else example_stack()
    config: dict[str, Any] = document["config"]
    network = config["homelab:network"]
    network["cidr"] = str(LAN)
    network["router"] = {**network["router"], "address": str(ROUTER_ADDRESS), "vmId": ROUTER_VM_ID}
    cluster = config["homelab:cluster"]
    cluster["vip"] = str(VIP_ADDRESS) if control_planes > 1 else None
    cluster["controlPlanes"] = [
        {"name": f"cp-{i + 1}", "address": str(FIRST_CONTROL_PLANE + i), "vmId": FIRST_CONTROL_PLANE_VM_ID + i}
        for i in range(control_planes)
    ]
    cluster["workers"] = [
        {"name": f"worker-{i + 1}", "address": str(FIRST_WORKER + i), "vmId": FIRST_WORKER_VM_ID + i}
        for i in range(workers)
    ]
    config["homelab:client"] = {
        **config["homelab:client"],
        "address": str(CLIENT_ADDRESS),
        "vmId": CLIENT_VM_ID,
    }
    return document


def write_stack(document: dict[str, Any], directory: Path, stack: str) -> Path:
    """Write `document` as `Pulumi.<stack>.yaml` in `directory`; returns the path."""
    path = directory / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path
