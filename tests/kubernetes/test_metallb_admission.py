"""The pool and advertisement wait until MetalLB's admission webhook accepts them.

A ready controller is not a serving webhook (metallb/metallb#1597, #2566) and Pulumi does not
retry an admission error: a command on the client dry-runs the very objects, server-side, until
the webhook answers; only then are they created.
"""

from __future__ import annotations

import pytest
import yaml

from components.kubernetes.metallb import WAIT_FOR_ADMISSION
from config.guests import CLIENT_KEY
from tests.support import COMMAND, RELEASE, STACK_NAMES, named, stack_plan

POOL = "kubernetes:metallb.io/v1beta1:IPAddressPool"
ADVERTISEMENT = "kubernetes:metallb.io/v1beta1:L2Advertisement"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_objects_wait_for_the_webhook_to_accept_them(stack: str) -> None:
    plan = stack_plan(stack)
    probe = named(plan, "metallb-webhook-ready")
    assert probe.type == COMMAND
    release = next(r for r in plan.by_type(RELEASE) if r.inputs["name"] == "metallb")
    kubeconfig_file = named(plan, f"{CLIENT_KEY}-kubeconfig")
    assert {release.urn, kubeconfig_file.urn} <= set(probe.dependencies)
    # A new release brings a new webhook: wait for it again.
    assert probe.options.replace_with == [release.urn]
    objects = [*plan.by_type(POOL), *plan.by_type(ADVERTISEMENT)]
    assert len(objects) == 2
    for registration in objects:
        assert probe.urn in registration.dependencies, registration.name


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_probe_dry_runs_exactly_the_objects_created(stack: str) -> None:
    plan = stack_plan(stack)
    probe = named(plan, "metallb-webhook-ready")
    assert probe.inputs["create"] == WAIT_FOR_ADMISSION
    assert "kubectl apply --dry-run=server" in WAIT_FOR_ADMISSION
    assert WAIT_FOR_ADMISSION.count("timeout ") == 1  # bounded: a webhook that never serves fails the up
    dry_run = {doc["kind"]: doc for doc in yaml.safe_load_all(probe.inputs["stdin"])}
    for registration in [*plan.by_type(POOL), *plan.by_type(ADVERTISEMENT)]:
        manifest = dry_run[registration.inputs["kind"]]
        assert manifest["apiVersion"] == registration.inputs["apiVersion"]
        assert manifest["metadata"] == registration.inputs["metadata"]
        assert manifest["spec"] == registration.inputs["spec"]
