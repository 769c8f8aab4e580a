"""Each resource's options are recorded as the engine receives them (resources.json `options`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pulumi
import pulumi_tls as tls
from pulumi.runtime.stack import run_pulumi_func

# The same entry point `pulumi.runtime.mocks.test` uses; the SDK exposes no public one.
from pulumi.runtime.sync_await import _sync_await  # pyright: ignore[reportPrivateUsage]

from plan.mocks import LabMocks
from plan.monitor import RecordingMonitor, Registration
from plan.write import plan_files
from tests.support import COMMAND, DOWNLOAD, VM, stack_plan

KEY = "tls:index/privateKey:PrivateKey"


def _record(program: Callable[[], None]) -> dict[str, Registration]:
    monitor = RecordingMonitor(LabMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="homelab", stack="options", preview=False, monitor=monitor)
    _sync_await(run_pulumi_func(program))
    return {registration.name: registration for registration in monitor.registrations.values()}


def _plain() -> None:
    tls.PrivateKey("plain", algorithm="ED25519")


def test_a_resource_without_options_records_the_engine_defaults() -> None:
    recorded = _record(_plain)
    assert recorded["plain"].options.as_json() == {
        "deleteBeforeReplace": False,
        "replaceWith": [],
        "replacementTrigger": None,
        "ignoreChanges": [],
        "replaceOnChanges": [],
        "customTimeouts": {},
        "protect": False,
        "retainOnDelete": False,
        "aliases": [],
    }


def test_every_option_is_recorded_by_its_engine_name() -> None:
    def program() -> None:
        guest = tls.PrivateKey("guest", algorithm="ED25519")
        other = tls.PrivateKey("other", algorithm="ED25519")
        tls.PrivateKey(
            "configured",
            algorithm="ED25519",
            opts=pulumi.ResourceOptions(
                delete_before_replace=True,
                replace_with=[other, guest],
                replacement_trigger={"version": "v1.13.9", "count": 3.0},
                ignore_changes=["rsa_bits", "algorithm"],
                replace_on_changes=["ecdsaCurve"],
                custom_timeouts=pulumi.CustomTimeouts(create="15m", delete="2m"),
                protect=True,
                retain_on_delete=True,
                aliases=[
                    pulumi.Alias(name="formerly"),
                    "urn:pulumi:options::homelab::tls:index/privateKey:PrivateKey::x",
                ],
            ),
        )

    recorded = _record(program)
    options = recorded["configured"].options.as_json()
    assert options == {
        "deleteBeforeReplace": True,
        "replaceWith": sorted([recorded["guest"].urn, recorded["other"].urn]),
        "replacementTrigger": {"count": 3, "version": "v1.13.9"},
        # As the engine receives them: the SDK turns property names into the provider's camelCase.
        "ignoreChanges": ["algorithm", "rsaBits"],
        "replaceOnChanges": ["ecdsaCurve"],
        "customTimeouts": {"create": "15m", "delete": "2m"},
        "protect": True,
        "retainOnDelete": True,
        # As URNs, in the order the engine tries them.
        "aliases": [
            "urn:pulumi:options::homelab::pulumi:pulumi:Stack$tls:index/privateKey:PrivateKey::formerly",
            "urn:pulumi:options::homelab::tls:index/privateKey:PrivateKey::x",
        ],
    }
    assert recorded["configured"].as_json()["options"] == options


def test_a_secret_replacement_trigger_is_recorded_without_its_value() -> None:
    def program() -> None:
        tls.PrivateKey(
            "triggered",
            algorithm="ED25519",
            opts=pulumi.ResourceOptions(replacement_trigger=pulumi.Output.secret("hunter2-token")),
        )

    recorded = _record(program)
    assert recorded["triggered"].options.replacement_trigger == "[secret]"
    assert "hunter2-token" not in json.dumps(recorded["triggered"].as_json())


def test_the_plan_records_the_programs_options() -> None:
    plan = stack_plan("dev")
    records = {record["urn"]: record for record in json.loads(plan_files(plan)["resources.json"])}
    assert len(records) == len(plan.registrations)
    for registration in plan.registrations:
        assert records[registration.urn]["options"] == registration.options.as_json()
    for vm in plan.by_type(VM):
        # The CD-ROM follows the ISO: no VM keeps pointing at a file the same `up` deletes.
        assert records[vm.urn]["options"]["ignoreChanges"] == []
    for command in plan.by_type(COMMAND):
        # pulumi-command's SDK asks for a replacement whenever a trigger changes (the program sets none).
        assert records[command.urn]["options"]["replaceOnChanges"] == ["triggers[*]"]
        assert "triggers" not in command.inputs
    isos = [download for download in plan.by_type(DOWNLOAD) if download.inputs["contentType"] == "iso"]
    assert isos
    for download in isos:
        assert records[download.urn]["options"]["ignoreChanges"] == ["fileName", "url"]


def test_an_alias_under_a_parent_is_the_urn_it_had_under_that_parent() -> None:
    def program() -> None:
        parent = pulumi.ComponentResource("homelab:test:Parent", "parent")
        tls.PrivateKey(
            "child", algorithm="ED25519", opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name="old")])
        )
        tls.PrivateKey(
            "orphan",
            algorithm="ED25519",
            opts=pulumi.ResourceOptions(parent=parent, aliases=[pulumi.Alias(name="top", parent=None)]),
        )

    recorded = _record(program)
    assert recorded["child"].options.aliases == [
        "urn:pulumi:options::homelab::homelab:test:Parent$tls:index/privateKey:PrivateKey::old"
    ]
    # Without a parent: at the top, under the stack (as the mock monitor names top-level resources).
    assert recorded["orphan"].options.aliases == [
        "urn:pulumi:options::homelab::pulumi:pulumi:Stack$tls:index/privateKey:PrivateKey::top"
    ]


def test_the_plan_records_each_guests_former_name_as_an_alias() -> None:
    plan = stack_plan("dev")
    by_name = {registration.name: registration for registration in plan.registrations}
    assert [alias.rsplit("::", 1)[-1] for alias in by_name["vm-202"].aliases] == ["worker-1"]
    assert [alias.rsplit("::", 1)[-1] for alias in by_name["cluster-vm-202-apply"].aliases] == [
        "cluster-worker-1-apply"
    ]
    # Children inherit their parent's (the engine derives theirs); the client is keyed by its role already.
    assert by_name["vm-202-vm"].aliases == []
    assert by_name["talos-client"].aliases == []
