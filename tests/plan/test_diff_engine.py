"""`homelab diff`'s semantics on hand-made registrations: Pulumi's rules, one at a time."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from diff.engine import UnknownType, changed_paths, diff_plans
from diff.replacements import rules_for
from plan.monitor import Registration
from plan.options import RecordedOptions
from plan.run import PlanResult, run_plan
from tests.support import (
    APPLY,
    COMMAND,
    CONTAINER,
    DOWNLOAD,
    K8S_PROVIDER,
    KUBECONFIG,
    SECRETS,
    STACK_NAMES,
    stack_config,
    stack_plan,
)

NAMESPACE = "kubernetes:core/v1:Namespace"


def reg(name: str, type_token: str = COMMAND, inputs: dict[str, Any] | None = None, **extra: Any) -> Registration:
    return Registration(
        urn=f"urn:pulumi:dev::homelab::{type_token}::{name}",
        type=type_token,
        name=name,
        parent="",
        provider=extra.pop("provider", ""),
        custom=True,
        dependencies=[],
        inputs=inputs or {},
        secret_inputs=[],
        **extra,
    )


def plan(*registrations: Registration) -> PlanResult:
    return PlanResult(stack_config("dev"), "dev", list(registrations), [], {}, [])


def actions(old: list[Registration], new: list[Registration]) -> dict[str, str]:
    return {c.name: c.action for c in diff_plans(plan(*old), plan(*new))}


def test_resources_are_matched_by_urn() -> None:
    kept, gone, added = reg("kept"), reg("gone"), reg("added")
    assert actions([kept, gone], [kept, added]) == {"added": "create", "gone": "delete"}
    renamed = replace(kept, urn=kept.urn.replace("kept", "renamed"), name="renamed")
    assert actions([kept], [renamed]) == {"renamed": "create", "kept": "delete"}


def test_an_update_lists_the_changed_leaf_paths() -> None:
    old = reg("c", inputs={"create": "x", "environment": {"A": "1", "B": "2"}, "args": [1, 2]})
    new = reg("c", inputs={"create": "x", "environment": {"A": "1", "B": "3"}, "args": [1, 2, 3]})
    (change,) = diff_plans(plan(old), plan(new))
    assert (change.action, change.paths) == ("update", ["args[2]", "environment.B"])


def test_ignore_changes_of_the_new_program_is_honoured() -> None:
    old = reg("vm", inputs={"cdrom": {"fileId": "a"}, "name": "x"})
    new = reg("vm", inputs={"cdrom": {"fileId": "b"}, "name": "x"}, options=RecordedOptions(ignore_changes=["cdrom"]))
    assert changed_paths(old, new) == []
    assert actions([old], [new]) == {}


def test_a_forcing_input_replaces_and_notes_delete_before_replace() -> None:
    old = reg("ct", CONTAINER, {"vmId": 200, "description": "a"})
    new = reg("ct", CONTAINER, {"vmId": 201, "description": "b"}, options=RecordedOptions(delete_before_replace=True))
    (change,) = diff_plans(plan(old), plan(new))
    assert change.action == "replace"
    assert change.paths == ["description", "vmId"]
    assert change.reason.startswith("vmId forces a new resource (bpg/terraform-provider-proxmox@")
    assert change.delete_before_replace


def test_a_conditional_rule_applies_only_when_it_holds() -> None:
    small, large = ({"disk": {"size": size}} for size in (4, 8))
    assert actions([reg("ct", CONTAINER, small)], [reg("ct", CONTAINER, large)]) == {"ct": "update"}
    assert actions([reg("ct", CONTAINER, large)], [reg("ct", CONTAINER, small)]) == {"ct": "replace"}


def test_replace_on_changes_replaces() -> None:
    options = RecordedOptions(replace_on_changes=["triggers[*]"])
    old, new = (
        reg("c", inputs={"triggers": ["a"]}, options=options),
        reg("c", inputs={"triggers": ["b"]}, options=options),
    )
    (change,) = diff_plans(plan(old), plan(new))
    assert change.action == "replace"


def test_replace_with_propagates_transitively() -> None:
    guest_old, guest_new = reg("guest", CONTAINER, {"vmId": 200}), reg("guest", CONTAINER, {"vmId": 201})
    first = reg("first", options=RecordedOptions(replace_with=[guest_new.urn]))
    second = reg("second", options=RecordedOptions(replace_with=[first.urn]))
    bystander = reg("bystander")
    assert actions([guest_old, first, second, bystander], [guest_new, first, second, bystander]) == {
        "guest": "replace",
        "first": "replace",
        "second": "replace",
    }


def test_a_replaced_provider_replaces_everything_it_manages() -> None:
    provider_old = reg("kubernetes", K8S_PROVIDER, {"kubeconfig": "a"})
    provider_new = reg("kubernetes", K8S_PROVIDER, {"kubeconfig": "b"})
    namespace = reg("ns", NAMESPACE, {"metadata": {"name": "x"}}, provider=provider_new.urn)
    changes = {c.name: c for c in diff_plans(plan(provider_old, namespace), plan(provider_new, namespace))}
    assert changes["ns"].reason == "its provider kubernetes is replaced"
    assert changes["ns"].delete_before_replace  # a fixed name: pulumi-kubernetes deletes first


def test_a_replacement_makes_its_consumers_inputs_unknown() -> None:
    """The template's new volume id is unknown until it is downloaded: the container's template changes."""
    template_old = reg("template", DOWNLOAD, {"url": "http://x/a.tar.zst"})
    template_new = reg("template", DOWNLOAD, {"url": "http://x/b.tar.zst"})
    container = reg(
        "ct",
        CONTAINER,
        {"operatingSystem": {"templateFileId": "local:vztmpl/t"}},
        property_dependencies={"operatingSystem": [template_new.urn]},
    )
    changes = {c.name: c for c in diff_plans(plan(template_old, container), plan(template_new, container))}
    assert changes["ct"].action == "replace"
    assert changes["ct"].paths == ["operatingSystem"]
    assert "unknown until template is replaced" in changes["ct"].reason


def test_outputs_kept_on_update_leave_their_consumers_alone() -> None:
    kubeconfig_old = reg("kubeconfig", KUBECONFIG, {"endpoint": "192.168.1.201"})
    kubeconfig_new = reg("kubeconfig", KUBECONFIG, {"endpoint": "192.168.1.210"})
    provider = {"property_dependencies": {"kubeconfig": [kubeconfig_new.urn]}}
    old = [kubeconfig_old, reg("kubernetes", K8S_PROVIDER, {"kubeconfig": "server .201"}, **provider)]
    new = [kubeconfig_new, reg("kubernetes", K8S_PROVIDER, {"kubeconfig": "server .210"}, **provider)]
    assert actions(old, new) == {"kubeconfig": "update"}


def test_secrets_are_compared_by_digest_and_never_shown() -> None:
    old = reg("file", inputs={"stdin": "[secret]"}, secret_digests={"stdin": "d1"})
    same = reg("file", inputs={"stdin": "[secret]"}, secret_digests={"stdin": "d1"})
    new = reg("file", inputs={"stdin": "[secret]"}, secret_digests={"stdin": "d2"})
    assert actions([old], [same]) == {}
    (change,) = diff_plans(plan(old), plan(new))
    assert (change.action, change.paths) == ("update", ["stdin"])
    assert "d1" not in repr(change.as_json()) and "d2" not in repr(change.as_json())


def test_a_type_without_rules_is_refused() -> None:
    with pytest.raises(UnknownType, match="example:index:Thing"):
        diff_plans(plan(), plan(reg("thing", "example:index:Thing")))


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_type_the_program_registers_has_cited_rules(stack: str) -> None:
    for registration in stack_plan(stack).registrations:
        if not registration.custom:
            continue
        rules = rules_for(registration.type)
        assert rules is not None, registration.type
        for rule in rules:
            assert "/" in rule.source and ".go" in rule.source, rule


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_an_unchanged_lab_shows_no_change(stack: str) -> None:
    """Two independent plans of the same stack: nothing differs, secrets included."""
    again = run_plan(stack_config(stack), stack)
    assert diff_plans(stack_plan(stack), again) == []


def test_outputs_recomputed_on_update_are_unknown_to_their_consumers() -> None:
    """Talos secrets without ignore_changes: an upgrade updates them (a downgrade replaces them), and
    whatever is built from them is unknown in the preview."""
    secrets = {version: reg("secrets", SECRETS, {"talosVersion": version}) for version in ("v1.13.9", "v1.13.10")}
    apply = reg(
        "apply",
        APPLY,
        {"node": "192.168.1.201"},
        property_dependencies={"clientConfiguration": [secrets["v1.13.9"].urn]},
    )
    upgraded = {c.name: c for c in diff_plans(plan(secrets["v1.13.9"], apply), plan(secrets["v1.13.10"], apply))}
    assert (upgraded["secrets"].action, upgraded["apply"].action) == ("update", "update")
    assert upgraded["apply"].paths == ["clientConfiguration"]
    downgraded = {c.name: c for c in diff_plans(plan(secrets["v1.13.10"], apply), plan(secrets["v1.13.9"], apply))}
    assert downgraded["secrets"].action == "replace"
    assert "downgrade" in downgraded["secrets"].reason
