"""`homelab diff`'s semantics on hand-made registrations: Pulumi's rules, one at a time."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from diff.engine import UnknownType, changed_paths, diff_plans
from diff.replacements import rules_for
from plan.aliases import AliasConflict
from plan.monitor import Registration
from plan.options import RecordedOptions
from plan.run import PlanResult, run_plan
from tests.support import (
    APPLY,
    COMMAND,
    CONTAINER,
    DOWNLOAD,
    FIREWALL_OPTIONS,
    GUEST_FIREWALL,
    K8S_PROVIDER,
    KUBECONFIG,
    SECRETS,
    STACK_NAMES,
    VM,
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


def _renamed(registration: Registration, name: str, **extra: Any) -> Registration:
    return replace(registration, urn=registration.urn.rsplit("::", 1)[0] + f"::{name}", name=name, **extra)


def test_a_resource_takes_over_the_old_one_its_alias_names() -> None:
    old = reg("worker-1-vm", CONTAINER, {"vmId": 202, "hostname": "worker-1"})
    new = _renamed(
        old,
        "vm-202-vm",
        inputs={"vmId": 202, "hostname": "worker-a"},
        options=RecordedOptions(aliases=[old.urn]),
    )
    (change,) = diff_plans(plan(old), plan(new))
    assert (change.name, change.action, change.paths) == ("vm-202-vm", "update", ["hostname"])


def test_the_own_urn_is_matched_before_an_alias() -> None:
    """As the engine does: an alias is only tried when the URN itself is not in the old state."""
    own, aliased = reg("vm-202", CONTAINER, {"vmId": 202}), reg("worker-1", CONTAINER, {"vmId": 203})
    new = replace(own, options=RecordedOptions(aliases=[aliased.urn]))
    assert actions([own, aliased], [new]) == {"worker-1": "delete"}


def test_children_of_an_aliased_parent_inherit_its_former_name() -> None:
    """A child named `<parent>-<what>` is looked for as `<parent's old name>-<what>` (inheritedChildAlias)."""
    component = "homelab:talos:TalosNode"
    old_parent = replace(reg("worker-1", component), custom=False)
    old_child = replace(
        reg("worker-1-vm", VM, {"name": "worker-1"}),
        urn=f"urn:pulumi:dev::homelab::{component}${VM}::worker-1-vm",
        parent=old_parent.urn,
    )
    old_grandchild_parent = replace(
        reg("worker-1-firewall", GUEST_FIREWALL),
        urn=f"urn:pulumi:dev::homelab::{component}${GUEST_FIREWALL}::worker-1-firewall",
        parent=old_parent.urn,
        custom=False,
    )
    old_grandchild = replace(
        reg("worker-1-firewall-options", FIREWALL_OPTIONS, {"enabled": True}),
        urn=f"urn:pulumi:dev::homelab::{GUEST_FIREWALL}${FIREWALL_OPTIONS}::worker-1-firewall-options",
        parent=old_grandchild_parent.urn,
    )
    new_parent = _renamed(old_parent, "vm-202", options=RecordedOptions(aliases=[old_parent.urn]))
    new_child = replace(_renamed(old_child, "vm-202-vm"), inputs={"name": "worker-a"}, parent=new_parent.urn)
    new_firewall = replace(_renamed(old_grandchild_parent, "vm-202-firewall"), parent=new_parent.urn)
    new_grandchild = replace(_renamed(old_grandchild, "vm-202-firewall-options"), parent=new_firewall.urn)
    old = [old_parent, old_child, old_grandchild_parent, old_grandchild]
    new = [new_parent, new_child, new_firewall, new_grandchild]
    assert actions(old, new) == {"vm-202-vm": "update"}
    # Without the parent's alias, every one of them is new and the old ones go.
    unaliased = [replace(new_parent, options=RecordedOptions()), new_child, new_firewall, new_grandchild]
    assert actions(old, unaliased) == {
        "vm-202": "create",
        "vm-202-vm": "create",
        "vm-202-firewall": "create",
        "vm-202-firewall-options": "create",
        "worker-1-firewall-options": "delete",
        "worker-1-firewall": "delete",
        "worker-1-vm": "delete",
        "worker-1": "delete",
    }


def test_two_resources_claiming_one_old_resource_are_refused() -> None:
    old = reg("worker-1", CONTAINER, {"vmId": 202})
    first = _renamed(old, "vm-202", options=RecordedOptions(aliases=[old.urn]))
    second = _renamed(old, "vm-203", options=RecordedOptions(aliases=[old.urn]))
    with pytest.raises(AliasConflict, match="worker-1"):
        diff_plans(plan(old), plan(first, second))


def test_an_ignored_input_stays_unchanged_when_its_source_is_replaced() -> None:
    """The engine keeps the old value of an ignored input: a replaced source's unknown id does not reach it."""
    iso_old = reg("iso", DOWNLOAD, {"datastoreId": "local"})
    iso_new = reg("iso", DOWNLOAD, {"datastoreId": "nfs"})
    vm = reg(
        "vm",
        VM,
        {"cdrom": {"fileId": "local:iso/talos.iso"}},
        property_dependencies={"cdrom": [iso_new.urn]},
        options=RecordedOptions(ignore_changes=["cdrom"]),
    )
    assert actions([iso_old, vm], [iso_new, vm]) == {"iso": "replace"}
    following = replace(vm, options=RecordedOptions())
    assert actions([iso_old, following], [iso_new, following]) == {"iso": "replace", "vm": "update"}


def test_a_consumer_of_outputs_the_engine_keeps_is_unchanged() -> None:
    """A source whose inputs changed only where it ignores changes keeps its old outputs (and id)."""
    options = RecordedOptions(ignore_changes=["fileName", "url"])
    iso_old = reg("iso", DOWNLOAD, {"fileName": "talos-v1.13.9.iso"}, options=options)
    iso_new = reg("iso", DOWNLOAD, {"fileName": "talos-v1.13.10.iso"}, options=options)
    dependencies = {"cdrom": [iso_new.urn]}
    vm_old = reg("vm", VM, {"cdrom": {"fileId": "local:iso/talos-v1.13.9.iso"}}, property_dependencies=dependencies)
    vm_new = reg("vm", VM, {"cdrom": {"fileId": "local:iso/talos-v1.13.10.iso"}}, property_dependencies=dependencies)
    assert actions([iso_old, vm_old], [iso_new, vm_new]) == {}
