"""`pulumi destroy` deletes in reverse dependency order; check the graph gives the right order."""

from __future__ import annotations

import pytest

from config.guests import CLIENT_KEY, client_guest
from tests.support import APPLY, BOOTSTRAP, CONTAINER, KUBECONFIG, VM, named, stack_plan, upstream

STACKS = ["dev", "ha", "minimal"]


@pytest.mark.parametrize("stack", STACKS)
def test_kubernetes_objects_go_before_the_cluster_and_the_cluster_before_the_guests(stack: str) -> None:
    plan = stack_plan(stack)
    cluster = {r.urn for r in plan.registrations if r.type in (APPLY, BOOTSTRAP, KUBECONFIG)}
    vms = {r.urn for r in plan.by_type(VM)}
    router = named(plan, "router-container").urn
    kubernetes = [r for r in plan.registrations if r.type.startswith("kubernetes:")]
    assert kubernetes
    for registration in kubernetes:
        # Everything a resource waits for is deleted after it.
        assert cluster | vms | {router} <= upstream(plan, registration), registration.name
    for apply in plan.by_type(APPLY):
        waits_for = upstream(plan, apply)
        assert router in waits_for
        assert waits_for & vms  # its own VM outlives the reset
    client = client_guest(plan.config).key
    for file_name in ("kubeconfig", "talosconfig"):
        command = named(plan, f"{client}-{file_name}")
        assert named(plan, f"{client}-container").urn in upstream(plan, command)


@pytest.mark.parametrize("stack", STACKS)
def test_nothing_on_the_proxmox_side_waits_for_kubernetes(stack: str) -> None:
    plan = stack_plan(stack)
    kubernetes = {r.urn for r in plan.registrations if r.type.startswith(("kubernetes:", "pulumi:providers:kube"))}
    for registration in [*plan.by_type(VM), *plan.by_type(CONTAINER)]:
        assert not upstream(plan, registration) & kubernetes, registration.name


@pytest.mark.parametrize("stack", STACKS)
def test_a_node_leaves_the_cluster_before_its_apply_and_vm_go(stack: str) -> None:
    """Each node's leave command waits for its VM and apply, so a removal or a destroy deletes it first;
    the whole-lab marker waits for every leave, so `pulumi destroy` deletes it before any of them."""
    plan = stack_plan(stack)
    marker = named(plan, "cluster-membership-whole-lab")
    for node in plan.by_type(VM):
        name = node.name.removesuffix("-vm")
        leave = named(plan, f"{name}-leave")
        apply = next(a for a in plan.by_type(APPLY) if named(plan, f"{name}-vm").urn in a.dependencies)
        assert {node.urn, apply.urn, named(plan, f"{CLIENT_KEY}-container").urn} <= upstream(plan, leave)
        assert leave.urn in upstream(plan, marker)
