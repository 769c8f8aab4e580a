"""The guest firewall is in force before a machine config leaves: the datacenter firewall on, each
node's NIC filters in place; a host on the lab bridge keeps its management ports from the lab."""

from __future__ import annotations

import pytest

from config.loading import load_stack_file
from plan.run import run_plan
from tests.support import (
    APPLY,
    DATACENTER_FIREWALL,
    FIREWALL_OPTIONS,
    FIREWALL_RULES,
    STACK_NAMES,
    VALID,
    named,
    stack_config,
    stack_plan,
)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_datacenter_firewall_is_on_and_locks_no_one_out(stack: str) -> None:
    (firewall,) = stack_plan(stack).by_type(DATACENTER_FIREWALL)
    assert firewall.inputs == {
        "enabled": True,
        "ebtables": True,
        "inputPolicy": "ACCEPT",
        "outputPolicy": "ACCEPT",
        "forwardPolicy": "ACCEPT",
    }
    # It is the whole Proxmox cluster's: destroying one lab must not switch everyone's guest firewalls off.
    assert firewall.options.retain_on_delete is True


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_a_machine_config_waits_for_the_firewall_of_its_nodes_nic(stack: str) -> None:
    plan = stack_plan(stack)
    (datacenter,) = plan.by_type(DATACENTER_FIREWALL)
    applies = plan.by_type(APPLY)
    assert applies
    for apply in applies:
        node = apply.name.removeprefix("cluster-").removesuffix("-apply")
        options = named(plan, f"{node}-firewall-options")
        assert options.type == FIREWALL_OPTIONS
        assert {options.urn, named(plan, f"{node}-firewall-ipfilter").urn, datacenter.urn} <= set(apply.dependencies)


def test_a_stack_that_manages_the_datacenter_firewall_itself_gets_none() -> None:
    config = stack_config("dev")
    own = config.model_copy(update={"proxmox": config.proxmox.model_copy(update={"manage_datacenter_firewall": False})})
    plan = run_plan(own, "dev")
    assert not plan.by_type(DATACENTER_FIREWALL)
    assert plan.by_type(APPLY)


def test_a_host_on_the_lab_bridge_keeps_its_management_ports_from_the_lab() -> None:
    config = load_stack_file(VALID / "slash-32-pool-slash-16-lan.yaml")
    assert config.network.host_addresses
    plan = run_plan(config, "host-on-lab")
    for host in config.network.host_addresses:
        rules = named(plan, f"datacenter-firewall-{host}-management")
        assert rules.type == FIREWALL_RULES
        assert rules.inputs["nodeName"] == host
        assert "vmId" not in rules.inputs and "containerId" not in rules.inputs  # the host's own rules
        assert rules.inputs["rules"] == [
            {
                "type": "in",
                "action": "DROP",
                "iface": config.network.bridge,
                "source": str(config.network.cidr),
                "proto": "tcp",
                "dport": "22,3128,8006",
                "comment": "homelab: no Proxmox management from the lab",
            }
        ]


@pytest.mark.parametrize("stack", ["dev", "minimal"])
def test_no_host_rules_without_a_host_on_the_lab_bridge(stack: str) -> None:
    assert not stack_config(stack).network.host_addresses
    assert not [r for r in stack_plan(stack).by_type(FIREWALL_RULES) if r.name.startswith("datacenter-firewall-")]


def test_the_storage_plugins_controller_alone_reaches_the_api_of_a_host_on_the_lab_bridge() -> None:
    """The ha stack has storage on, with pve-a on the lab bridge: the control planes (where the plugin's
    controller runs) may call 8006 there; everything else from the lab is dropped."""
    plan = stack_plan("ha")
    assert plan.config.storage.enabled
    (rules,) = [r for r in plan.by_type(FIREWALL_RULES) if r.name == "datacenter-firewall-pve-a-management"]
    accepted = [(rule["source"], rule["dport"]) for rule in rules.inputs["rules"] if rule["action"] == "ACCEPT"]
    assert accepted == [(f"{cp.address}/32", "8006") for cp in plan.config.cluster.control_planes]
    assert rules.inputs["rules"][-1]["action"] == "DROP"
