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
        assert records[vm.urn]["options"]["ignoreChanges"] == ["cdrom"]
    for command in plan.by_type(COMMAND):
        # pulumi-command's SDK asks for a replacement whenever a trigger changes (the program sets none).
        assert records[command.urn]["options"]["replaceOnChanges"] == ["triggers[*]"]
        assert "triggers" not in command.inputs
    isos = [download for download in plan.by_type(DOWNLOAD) if download.inputs["contentType"] == "iso"]
    assert isos
    for download in isos:
        assert records[download.urn]["options"]["ignoreChanges"] == ["fileName", "url"]
