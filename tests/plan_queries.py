"""Queries over a plan's registrations, for the program tests."""

from __future__ import annotations

from typing import Any

from plan.monitor import InvokeRecord, Registration
from plan.run import PlanResult

VM = "proxmoxve:index/vmLegacy:VmLegacy"
CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy"
BRIDGE = "proxmoxve:network/linux/bridge:Bridge"
DOWNLOAD = "proxmoxve:download/file:File"
COMMAND = "command:remote:Command"
SCHEMATIC = "talos:imageFactory/schematic:Schematic"
SECRETS = "talos:machine/secrets:Secrets"
APPLY = "talos:machine/configurationApply:ConfigurationApply"
BOOTSTRAP = "talos:machine/bootstrap:Bootstrap"
KUBECONFIG = "talos:cluster/kubeconfig:Kubeconfig"
K8S_PROVIDER = "pulumi:providers:kubernetes"
RELEASE = "kubernetes:helm.sh/v3:Release"
MACHINE_CONFIG_INVOKE = "talos:machine/getConfiguration:getConfiguration"
HEALTH_INVOKE = "talos:cluster/getHealth:getHealth"
TALOSCONFIG_INVOKE = "talos:client/getConfiguration:getConfiguration"


def named(plan: PlanResult, name: str) -> Registration:
    matches = [r for r in plan.registrations if r.name == name]
    assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
    return matches[0]


def upstream(plan: PlanResult, registration: Registration) -> set[str]:
    """Every URN a resource waits for, transitively (dependencies and provider)."""
    by_urn = {r.urn: r for r in plan.registrations}
    seen: set[str] = set()
    todo = [*registration.dependencies, registration.provider]
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo += [*by_urn[urn].dependencies, by_urn[urn].provider]
    return seen


def invokes(plan: PlanResult, token: str) -> list[InvokeRecord]:
    return [record for record in plan.invokes if record.token == token]


def dig(value: Any, *path: str | int) -> Any:
    for part in path:
        value = value[part]
    return value
