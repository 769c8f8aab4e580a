"""What the network suite builds a lab from: the files `homelab plan` writes for a stack.

`HOMELAB_NETTEST_PLAN_DIR=<dir>` makes the suite read `<dir>/<stack>/` instead of
running the plan: that is how a hand-edited (e.g. deliberately broken) plan is
tested. `write_plan` writes such a folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.models import LabConfig
from tests.support import REPO

PLAN_DIR_ENV = "HOMELAB_NETTEST_PLAN_DIR"
SUMMARY = "summary.json"
# The example stack, and one with other subnets, pool, host, a VIP and more guests.
STACKS: dict[str, Path] = {
    "dev": REPO / "Pulumi.dev.yaml",
    "ha-two-hosts": REPO / "tests/fixtures/valid/ha-two-hosts.yaml",
}
VM = "proxmoxve:index/vmLegacy:VmLegacy"
CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy"


@dataclass(frozen=True)
class PlanFiles:
    folder: Path
    network: dict[str, Any]  # router/network.json
    guest_macs: dict[str, str]  # guest name -> MAC of its NIC on the lab bridge
    router_macs: dict[str, str]  # router interface -> MAC
    laptop_routes: list[str]  # the Linux route commands the plan prints for the laptop
    hosts_line: str  # the /etc/hosts line the plan prints

    @property
    def router(self) -> Path:
        return self.folder / "router"


def write_plan(stack_file: Path, out: Path) -> None:
    """Run `homelab plan` as a user would; its JSON summary goes to `<out>/summary.json`."""
    command = [sys.executable, "-m", "cli.main", "plan", "--config-file", str(stack_file), "--out", str(out)]
    result = subprocess.run(
        [*command, "--format", "json"], cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode != 0:
        raise AssertionError(f"homelab plan failed for {stack_file} ({result.returncode}):\n{result.stderr}")
    (out / SUMMARY).write_text(result.stdout, encoding="utf-8")


def plan_files(stack: str, stack_file: Path, scratch: Path, config: LabConfig) -> PlanFiles:
    override = os.environ.get(PLAN_DIR_ENV)
    folder = Path(override) / stack if override else scratch
    if not override:
        write_plan(stack_file, folder)
    summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
    resources: list[dict[str, Any]] = json.loads((folder / "resources.json").read_text(encoding="utf-8"))
    return PlanFiles(
        folder=folder,
        network=json.loads((folder / "router/network.json").read_text(encoding="utf-8")),
        guest_macs=_guest_macs(resources, config),
        router_macs=_router_macs(resources, config),
        laptop_routes=list(summary["laptop"]["routesLinux"]),
        hosts_line=str(summary["laptop"]["hostsLine"]),
    )


def _containers(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record["inputs"] for record in resources if record["type"] == CONTAINER]


def _guest_macs(resources: list[dict[str, Any]], config: LabConfig) -> dict[str, str]:
    macs = {
        record["inputs"]["name"]: record["inputs"]["networkDevices"][0]["macAddress"]
        for record in resources
        if record["type"] == VM
    }
    for inputs in _containers(resources):
        nic = inputs["networkInterfaces"][0]
        hostname = inputs["initialization"]["hostname"]
        if hostname != config.network.router.name and nic["bridge"] == config.network.bridge:
            macs[hostname] = nic["macAddress"]
    return macs


def _router_macs(resources: list[dict[str, Any]], config: LabConfig) -> dict[str, str]:
    (router,) = [c for c in _containers(resources) if c["initialization"]["hostname"] == config.network.router.name]
    return {nic["name"]: nic["macAddress"] for nic in router["networkInterfaces"]}
