"""What the cluster's rollout command will do, read from the script `homelab diff` compares.

The rollout (`components.talos.upgrade`) is one command whose stdin is a rendered
script; a changed script means `pulumi up` runs it. Its header carries the targets, so
the steps a person should expect can be told from the two scripts alone.
"""

from __future__ import annotations

import re
import shlex

from plan.run import PlanResult

ROLLOUT_NAME = "cluster-upgrade-rollout"
_ASSIGNMENT = re.compile(r"^(TALOS_VERSION|SCHEMATIC_ID|KUBERNETES_VERSION|CONTROL_PLANES|WORKERS)=(.*)$", re.M)


def rollout_targets(script: str) -> dict[str, list[str]]:
    """The header's targets: each variable's words (arrays unwrapped)."""
    targets: dict[str, list[str]] = {}
    for name, value in _ASSIGNMENT.findall(script):
        words = shlex.split(value.removeprefix("(").removesuffix(")"))
        targets[name] = words
    return targets


def rollout_steps(old_script: str, new_script: str) -> list[str]:
    """The upgrade steps the new script will take on a cluster built from the old one (empty: none)."""
    if old_script == new_script:
        return []
    old, new = rollout_targets(old_script), rollout_targets(new_script)
    nodes = [*new.get("CONTROL_PLANES", []), *new.get("WORKERS", [])]
    steps: list[str] = []
    talos = new.get("TALOS_VERSION", [""])[0]
    if (old.get("TALOS_VERSION"), old.get("SCHEMATIC_ID")) != (new.get("TALOS_VERSION"), new.get("SCHEMATIC_ID")):
        steps.append("health check of the cluster")
        steps += [f"talosctl upgrade {node} to Talos {talos}, then health check" for node in nodes]
    kubernetes = new.get("KUBERNETES_VERSION", [""])[0]
    if old.get("KUBERNETES_VERSION") != new.get("KUBERNETES_VERSION"):
        steps += [] if steps else ["health check of the cluster"]
        steps.append(f"talosctl upgrade-k8s --to {kubernetes} (only if a component is not on it yet)")
    if not steps:
        steps.append(f"every node checked: already on Talos {talos} and Kubernetes {kubernetes}, nothing to upgrade")
    return steps


def planned_rollout_steps(old: PlanResult, new: PlanResult) -> list[str]:
    """The steps between two plans of the same stack (empty when the rollout does not run)."""
    scripts = []
    for plan in (old, new):
        found = [r.inputs.get("stdin", "") for r in plan.registrations if r.name == ROLLOUT_NAME]
        scripts.append(found[0] if found else "")
    if not scripts[0] or not scripts[1]:
        return []
    return rollout_steps(scripts[0], scripts[1])
