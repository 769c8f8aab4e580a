"""The guest firewall's inputs conform to the Proxmox provider's schema (the whole plan: tests/plan)."""

from __future__ import annotations

import pytest

from tests.provider_schema import input_errors
from tests.support import FIREWALL_IPSET, FIREWALL_OPTIONS, FIREWALL_RULES, STACK_NAMES, stack_plan

FIREWALL_TYPES = [FIREWALL_OPTIONS, FIREWALL_IPSET, FIREWALL_RULES]


@pytest.mark.schemas
@pytest.mark.parametrize("token", FIREWALL_TYPES)
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_firewall_inputs_conform_to_the_provider_schema(stack: str, token: str) -> None:
    registrations = stack_plan(stack).by_type(token)
    assert registrations, f"{stack} registers no {token}"
    for registration in registrations:
        assert input_errors(token, registration.inputs) == [], registration.name


_RULE = {"type": "out", "action": "DROP", "proto": "udp", "sport": "67", "dport": "68", "iface": "net0"}


@pytest.mark.schemas
@pytest.mark.parametrize(
    ("token", "inputs", "error"),
    [
        (FIREWALL_OPTIONS, {"nodeName": "pve", "vmId": 201, "enable": True}, "OptionsLegacy.enable: not a property"),
        (FIREWALL_OPTIONS, {"vmId": 201, "enabled": True}, "OptionsLegacy.nodeName: required, missing"),
        (FIREWALL_OPTIONS, {"nodeName": "pve", "vmId": "201"}, "OptionsLegacy.vmId: expected integer, got '201'"),
        (FIREWALL_OPTIONS, {"nodeName": "pve", "vmId": 201.5}, "OptionsLegacy.vmId: expected integer"),
        (FIREWALL_OPTIONS, {"nodeName": "pve", "radv": "false"}, "OptionsLegacy.radv: expected boolean"),
        (FIREWALL_IPSET, {"nodeName": "pve", "cidrs": [{"comment": "x"}]}, "IpsetLegacy.cidrs[0].name: required"),
        (FIREWALL_IPSET, {"nodeName": "pve", "cidrs": {"name": "10.0.0.1"}}, "IpsetLegacy.cidrs: expected an array"),
        (FIREWALL_RULES, {"nodeName": "pve", "rules": [{**_RULE, "sport": 67}]}, "rules[0].sport: expected string"),
        (FIREWALL_RULES, {"nodeName": "pve", "rules": [{**_RULE, "direction": "out"}]}, "rules[0].direction: not a"),
    ],
)
def test_the_schema_check_catches_what_the_provider_would_refuse(
    token: str, inputs: dict[str, object], error: str
) -> None:
    errors = input_errors(token, inputs)
    assert len(errors) == 1, errors
    assert error in errors[0]


@pytest.mark.schemas
def test_the_schema_check_accepts_numbers_as_the_engine_sends_them() -> None:
    # Integers cross the engine's protobuf Struct as doubles.
    assert input_errors(FIREWALL_OPTIONS, {"nodeName": "pve", "vmId": 201.0, "enabled": True}) == []
