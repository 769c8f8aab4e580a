"""The critical path of `pulumi up` does not grow with the number of nodes.

A graph property, not a timing: the longest dependency chain of a 3 + 60 node lab is
no longer than the example's, no Talos VM waits for another, and exactly one
ConfigurationApply is on the chain. (`python -m benchmarks.plan_benchmark` times it.)
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from benchmarks.stacks import scaled_stack, write_stack
from config.loading import load_stack_file
from plan.graph import longest_chain
from plan.monitor import Registration
from plan.run import PlanResult, run_plan
from tests.support import APPLY, VM, stack_plan

WORKERS, CONTROL_PLANES = 60, 3
TALOS_NODE = "homelab:talos:TalosNode"


@functools.cache
def scaled_plan() -> PlanResult:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = write_stack(scaled_stack(WORKERS, CONTROL_PLANES), Path(directory), "scaled")
        config = load_stack_file(path)
    return run_plan(config, "scaled")


def plans() -> dict[str, PlanResult]:
    return {"example": stack_plan("dev"), "scaled": scaled_plan()}


def waits_for(plan: PlanResult, registration: Registration) -> set[str]:
    """Every custom resource a resource waits for, transitively, as `longest_chain` counts them:
    its dependencies and provider, a component standing for every custom resource inside it."""
    by_urn = {r.urn: r for r in plan.registrations}
    members: dict[str, list[str]] = {}
    for member in plan.registrations:
        if member.custom:
            ancestor = member.parent
            while ancestor in by_urn:
                members.setdefault(ancestor, []).append(member.urn)
                ancestor = by_urn[ancestor].parent
    seen: set[str] = set()
    todo = [registration.urn]
    while todo:
        current = by_urn[todo.pop()]
        for dependency in (*current.dependencies, current.provider):
            for upstream in members.get(dependency, [dependency]):
                if upstream in by_urn and upstream not in seen:
                    seen.add(upstream)
                    todo.append(upstream)
    return seen


def test_the_scaled_stack_has_the_nodes_asked_for() -> None:
    plan = scaled_plan()
    assert len(plan.config.cluster.control_planes) == CONTROL_PLANES
    assert len(plan.config.cluster.workers) == WORKERS
    assert plan.config.cluster.vip is not None
    assert len(plan.by_type(VM)) == WORKERS + CONTROL_PLANES
    assert len(plan.by_type(APPLY)) == WORKERS + CONTROL_PLANES


def described(plan: PlanResult, chain: list[str]) -> str:
    by_urn = {r.urn: r for r in plan.registrations}
    return "\n".join(f"  {by_urn[urn].type} {by_urn[urn].name}" for urn in chain)


def test_the_longest_chain_does_not_grow_with_the_node_count() -> None:
    example, scaled = (longest_chain(plan.registrations) for plan in plans().values())
    assert len(scaled) <= len(example), (
        f"{WORKERS + CONTROL_PLANES} nodes: {len(scaled)} resources on the longest chain, "
        f"the example: {len(example)}\n{described(scaled_plan(), scaled)}"
    )


@pytest.mark.parametrize("stack", ["example", "scaled"])
def test_no_talos_vm_waits_for_another(stack: str) -> None:
    plan = plans()[stack]
    by_urn = {r.urn: r for r in plan.registrations}
    vms = {r.urn for r in plan.by_type(VM) if by_urn[r.parent].type == TALOS_NODE}
    assert len(vms) == len(plan.config.cluster.control_planes) + len(plan.config.cluster.workers)
    for vm in vms:
        others = waits_for(plan, by_urn[vm]) & (vms - {vm})
        assert not others, f"{by_urn[vm].name} waits for {sorted(by_urn[o].name for o in others)}"


@pytest.mark.parametrize("stack", ["example", "scaled"])
def test_at_most_one_configuration_apply_on_the_longest_chain(stack: str) -> None:
    """Applies run side by side; the longest chain may instead run through the client, whose health
    check (after every apply) gates the Kubernetes layer."""
    plan = plans()[stack]
    types = {r.urn: r.type for r in plan.registrations}
    chain = longest_chain(plan.registrations)
    assert [types[urn] for urn in chain].count(APPLY) <= 1, described(plan, chain)
