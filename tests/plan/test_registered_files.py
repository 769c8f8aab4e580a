"""The plan's files are what the program registered: read back from the records, never rendered again."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from components.router.files import render_router_files
from components.talos.patches import node_patches, patches_document
from config.guests import talos_nodes
from plan.monitor import InvokeRecord
from plan.registered import RecordError, embedded_files, router_files, talos_patches
from plan.run import PlanResult
from plan.write import plan_files
from tests.support import (
    COMMAND,
    MACHINE_CONFIG_INVOKE,
    RELEASE,
    STACK_NAMES,
    installer_image,
    named,
    stack_config,
    stack_plan,
)

ROUTER_CONFIGURE = "router-configure"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_router_files_extracted_from_the_pushed_script_equal_the_rendered_ones(stack: str) -> None:
    files = plan_files(stack_plan(stack))
    rendered = render_router_files(stack_config(stack)).as_files()
    assert {name: files[f"router/{name}"] for name in rendered} == rendered
    assert sorted(name for name in files if name.startswith("router/")) == sorted(f"router/{n}" for n in rendered)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_talos_files_are_the_patches_each_node_was_given(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    files = plan_files(plan)
    image = installer_image(plan)
    expected = {
        f"talos/{node.name}.yaml": patches_document(node_patches(config, node, image)) for node in talos_nodes(config)
    }
    assert {name: text for name, text in files.items() if name.startswith("talos/")} == expected


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_helm_values_files_are_the_releases_inputs(stack: str) -> None:
    plan = stack_plan(stack)
    files = plan_files(plan)
    releases = plan.by_type(RELEASE)
    assert releases
    for release in releases:
        assert yaml.safe_load(files[f"helm/{release.inputs['name']}.values.yaml"]) == release.inputs["values"]


def _with_router_script(plan: PlanResult, script: str) -> PlanResult:
    configure = named(plan, ROUTER_CONFIGURE)
    changed = dataclasses.replace(configure, inputs={**configure.inputs, "stdin": script})
    return dataclasses.replace(plan, registrations=[changed if r is configure else r for r in plan.registrations])


SCRIPT = """#!/bin/sh
cat >"$staging/dnsmasq.conf" <<'END'
port=53
END
cat >/etc/nftables.nft <<'RULES'
table inet filter {}
RULES
cat >"$staging/network.json" <<'END'
{"wan": "$not_expanded"}
END
echo done
"""


def test_router_files_follow_the_recorded_script_not_the_config() -> None:
    files = plan_files(_with_router_script(stack_plan("dev"), SCRIPT))
    assert files["router/setup.sh"] == SCRIPT
    assert files["router/dnsmasq.conf"] == "port=53\n"
    assert files["router/nftables.nft"] == "table inet filter {}\n"
    assert files["router/network.json"] == '{"wan": "$not_expanded"}\n'


def test_talos_files_follow_the_recorded_invoke_arguments() -> None:
    plan = stack_plan("dev")
    patches = ["machine:\n  kubelet: {}\n", "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: renamed\n"]
    record = next(r for r in plan.invokes if r.token == MACHINE_CONFIG_INVOKE)
    changed = dataclasses.replace(record, args={**record.args, "configPatches": patches})
    files = plan_files(dataclasses.replace(plan, invokes=[changed if r is record else r for r in plan.invokes]))
    assert files["talos/renamed.yaml"] == patches_document(patches)


def test_a_script_missing_a_router_file_is_an_error() -> None:
    script = SCRIPT.replace("network.json", "other.json")
    with pytest.raises(RecordError, match=r"embeds no network\.json"):
        router_files(_with_router_script(stack_plan("dev"), script).registrations)


def test_only_one_script_may_be_pushed_to_the_router() -> None:
    plan = stack_plan("dev")
    configure = named(plan, ROUTER_CONFIGURE)
    second = dataclasses.replace(configure, urn=f"{configure.urn}-again")
    assert configure.type == COMMAND
    with pytest.raises(RecordError, match="found 2"):
        router_files([*plan.registrations, second])
    others = [r for r in plan.registrations if r is not configure]
    with pytest.raises(RecordError, match="found 0"):
        router_files(others)


def test_embedded_files_are_taken_literally_by_target_file_name() -> None:
    script = "cat >/a/b/one <<'X'\n$HOME `id`\nX\ncat <<EOF\nnot a file\nEOF\ncat >'two' <<'Y'\nY\n"
    assert embedded_files(script) == {"one": "$HOME `id`\n", "two": ""}
    with pytest.raises(RecordError, match="writes one twice"):
        embedded_files(script + "cat >/c/one <<'Z'\nz\nZ\n")


def test_machine_configurations_are_named_by_their_hostname() -> None:
    def record(*patches: str) -> InvokeRecord:
        return InvokeRecord(MACHINE_CONFIG_INVOKE, {"configPatches": list(patches)}, [], [])

    hostname = "apiVersion: v1alpha1\nkind: HostnameConfig\nhostname: {name}\nauto: 'off'\n"
    found = talos_patches([record("machine: {}\n", hostname.format(name="b")), record(hostname.format(name="a"))])
    assert list(found) == ["a", "b"]
    assert found["b"] == ["machine: {}\n", hostname.format(name="b")]
    with pytest.raises(RecordError, match="without a HostnameConfig"):
        talos_patches([record("machine: {}\n")])
    with pytest.raises(RecordError, match="two machine configurations for a"):
        talos_patches([record(hostname.format(name="a")), record(hostname.format(name="a"))])
