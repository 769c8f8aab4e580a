"""The lab segment on each fabric: what LabNetwork registers, the lab MTU on every lab NIC, the order."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.fabric import VXLAN_OVERHEAD, explicit_mtu
from config.loading import load_stack_file
from plan.run import PlanResult, run_plan
from tests.provider_schema import input_errors
from tests.support import BRIDGE, CONTAINER, VALID, VM, named, stack_plan, upstream

VXLAN_STACK = VALID / "vxlan-two-hosts.yaml"
ZONE_VXLAN = "proxmoxve:sdn/zone/vxlanLegacy:VxlanLegacy"
ZONE_VLAN = "proxmoxve:sdn/zone/vlanLegacy:VlanLegacy"
VNET = "proxmoxve:sdn/vnetLegacy:VnetLegacy"
APPLIER = "proxmoxve:sdn/applierLegacy:ApplierLegacy"
SDN_TYPES = (ZONE_VXLAN, ZONE_VLAN, VNET, APPLIER)


def _document() -> dict[str, Any]:
    return yaml.safe_load(VXLAN_STACK.read_text(encoding="utf-8"))


@functools.cache
def _plan_of(text: str) -> PlanResult:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Pulumi.lab.yaml"
        path.write_text(text, encoding="utf-8")
        return run_plan(load_stack_file(path), "lab")


def plan_of(document: dict[str, Any]) -> PlanResult:
    return _plan_of(yaml.safe_dump(document, sort_keys=False))


def vlan_document(underlay_mtu: int = 1500) -> dict[str, Any]:
    document = _document()
    network = document["config"]["homelab:network"]
    network.update(fabric="vlan", underlayMtu=underlay_mtu)
    network["sdn"] = {"zone": "homelab", "tag": 30}
    return document


def _lab_nics(plan: PlanResult, bridge: str) -> list[dict[str, Any]]:
    nics = [r.inputs["networkDevices"][0] for r in plan.by_type(VM)]
    nics += [nic for r in plan.by_type(CONTAINER) for nic in r.inputs["networkInterfaces"] if nic["bridge"] == bridge]
    return nics


def test_vxlan_registers_one_zone_one_vnet_an_applier_and_a_finalizer_and_no_bridge() -> None:
    plan = plan_of(_document())
    assert plan.by_type(BRIDGE) == []
    (zone,) = plan.by_type(ZONE_VXLAN)
    (vnet,) = plan.by_type(VNET)
    assert zone.inputs == {
        "resourceId": "homelab",
        "nodes": ["pve-1", "pve-2"],
        "peers": ["192.168.0.11", "192.168.0.12"],
        "mtu": 1500 - VXLAN_OVERHEAD,
    }
    assert vnet.inputs == {"resourceId": "labnet", "zone": "homelab", "tag": 10100, "alias": "homelab lab network"}
    assert sorted(r.name for r in plan.by_type(APPLIER)) == ["lab-network-sdn-apply", "lab-network-sdn-finalizer"]


def test_the_applier_runs_after_the_zone_and_vnet_and_again_when_either_changes() -> None:
    plan = plan_of(_document())
    zone, vnet = named(plan, "lab-network-zone"), named(plan, "lab-network-vnet")
    applier, finalizer = named(plan, "lab-network-sdn-apply"), named(plan, "lab-network-sdn-finalizer")
    assert {zone.urn, vnet.urn} <= set(applier.dependencies)
    assert sorted(applier.options.replace_with) == sorted([zone.urn, vnet.urn])
    assert applier.options.replacement_trigger is not None
    # Deleted after both, so its apply removes the VNet from the hosts.
    assert finalizer.urn in zone.dependencies and finalizer.urn in vnet.dependencies


def test_every_guest_attaches_only_after_the_apply() -> None:
    plan = plan_of(_document())
    applier = named(plan, "lab-network-sdn-apply")
    for guest in [*plan.by_type(VM), *plan.by_type(CONTAINER)]:
        assert applier.urn in upstream(plan, guest), guest.name


@pytest.mark.parametrize(("name", "make"), [("vxlan", _document), ("vlan", vlan_document)])
def test_every_lab_nic_is_on_the_vnet_at_the_lab_mtu(name: str, make: Any) -> None:
    document = make()
    plan = plan_of(document)
    expected = explicit_mtu(plan.config.network)
    nics = _lab_nics(plan, "labnet")
    assert len(nics) == 5, "three VMs, the client and the router's LAN side"
    assert {nic.get("mtu") for nic in nics} == {expected}, name


def test_vlan_registers_a_vlan_zone_on_the_uplink_and_no_mtu_at_1500() -> None:
    plan = plan_of(vlan_document())
    (zone,) = plan.by_type(ZONE_VLAN)
    assert zone.inputs == {"resourceId": "homelab", "nodes": ["pve-1", "pve-2"], "bridge": "vmbr0"}
    (vnet,) = plan.by_type(VNET)
    assert vnet.inputs["tag"] == 30
    assert {nic.get("mtu") for nic in _lab_nics(plan, "labnet")} == {None}


def test_jumbo_frames_on_a_bridge_fabric_set_the_bridges_and_the_nics() -> None:
    document = yaml.safe_load((VALID / "ha-two-hosts.yaml").read_text(encoding="utf-8"))
    document["config"]["homelab:network"]["underlayMtu"] = 9000
    plan = plan_of(document)
    assert {r.inputs["mtu"] for r in plan.by_type(BRIDGE)} == {9000}
    nics = _lab_nics(plan, "vmbr7")
    assert len(nics) == 10 and {nic["mtu"] for nic in nics} == {9000}


def test_a_bridge_fabric_at_1500_sets_no_mtu_anywhere() -> None:
    plan = stack_plan("dev")
    assert all("mtu" not in r.inputs for r in plan.by_type(BRIDGE))
    assert {nic.get("mtu") for nic in _lab_nics(plan, "vmbr1")} == {None}
    assert not any(r.type in SDN_TYPES for r in plan.registrations)


@pytest.mark.schemas
@pytest.mark.parametrize(("name", "make"), [("vxlan", _document), ("vlan", vlan_document)])
def test_sdn_inputs_conform_to_the_provider_schema(name: str, make: Any) -> None:
    plan = plan_of(make())
    registrations = [r for r in plan.registrations if r.type in (*SDN_TYPES, VM, CONTAINER)]
    assert len(registrations) >= 7, name
    for registration in registrations:
        assert input_errors(registration.type, registration.inputs) == [], registration.name
