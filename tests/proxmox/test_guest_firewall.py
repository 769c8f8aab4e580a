"""Proxmox's firewall on the lab bridge, as registered: one per guest NIC on the bridge.

Proxmox's firewall cannot run here; what is checked is what the program asks Proxmox for,
that it is built from the same model as the NICs and the router's DHCP reservations
(DESIGN §4), and that the inputs conform to the provider's schema.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import pytest

from components.proxmox.guest_firewall import ip_filter_entries
from config.guests import Role, client_guest, lab_guests, router_host, router_lan_mac
from plan.monitor import Registration
from plan.run import PlanResult
from plan.write import plan_files
from tests.support import (
    CONTAINER,
    FIREWALL_IPSET,
    FIREWALL_OPTIONS,
    FIREWALL_RULES,
    GUEST_FIREWALL,
    STACK_NAMES,
    VM,
    named,
    stack_plan,
)

_MAC = re.compile(r"^(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}$")


@dataclass(frozen=True)
class Nic:
    """A guest NIC on the lab bridge, read from the VM or container as registered."""

    guest: Registration
    target: tuple[str, str, int]  # (host, "vmId" | "containerId", id)
    index: int
    mac: str


def _lab_nics(plan: PlanResult) -> dict[str, Nic]:
    bridge = plan.config.network.bridge
    nics: dict[str, Nic] = {}
    for guest in [*plan.by_type(VM), *plan.by_type(CONTAINER)]:
        devices = guest.inputs["networkDevices" if guest.type == VM else "networkInterfaces"]
        key = "vmId" if guest.type == VM else "containerId"
        for index, device in enumerate(devices):
            if device["bridge"] == bridge:
                target = (guest.inputs["nodeName"], key, int(guest.inputs["vmId"]))
                nics[guest.name] = Nic(guest, target, index, device["macAddress"])
    return nics


def _target(registration: Registration) -> tuple[str, str, int]:
    inputs = registration.inputs
    (key,) = [key for key in ("vmId", "containerId") if key in inputs]
    return (inputs["nodeName"], key, int(inputs[key]))


def _guest_objects(plan: PlanResult, token: str) -> list[Registration]:
    """The firewall objects of that type that belong to a guest (a host's own rules have none)."""
    return [r for r in plan.by_type(token) if {"vmId", "containerId"} & set(r.inputs)]


def _by_target(plan: PlanResult, token: str) -> dict[tuple[str, str, int], Registration]:
    """Each guest's firewall object of that type (a host's own rules have no guest)."""
    registrations = _guest_objects(plan, token)
    by_target = {_target(r): r for r in registrations}
    assert len(by_target) == len(registrations), f"two {token} on one guest"
    return by_target


def _reservations(plan: PlanResult) -> dict[str, str]:
    """The router's DHCP reservations, MAC -> address, from its rendered dnsmasq.conf."""
    reservations: dict[str, str] = {}
    for line in plan_files(plan)["router/dnsmasq.conf"].splitlines():
        if line.startswith("dhcp-host="):
            fields = line.removeprefix("dhcp-host=").split(",")
            (mac,) = [f for f in fields if _MAC.match(f)]
            (address,) = [f for f in fields if re.fullmatch(r"[\d.]+", f)]
            reservations[mac.upper()] = address
    return reservations


def _router_nic(plan: PlanResult) -> Nic:
    return _lab_nics(plan)["router-container"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_nic_on_the_lab_bridge_has_the_firewall_flag(stack: str) -> None:
    plan = stack_plan(stack)
    nics = _lab_nics(plan)
    assert len(nics) == len(lab_guests(plan.config)) + 1, "every guest and the router's eth1"
    for nic in nics.values():
        devices = nic.guest.inputs["networkDevices" if nic.guest.type == VM else "networkInterfaces"]
        assert devices[nic.index].get("firewall") is True, f"{nic.guest.name} net{nic.index}"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_one_firewall_per_nic_on_the_lab_bridge(stack: str) -> None:
    plan = stack_plan(stack)
    nics = _lab_nics(plan)
    assert set(_by_target(plan, FIREWALL_OPTIONS)) == {nic.target for nic in nics.values()}
    router = _router_nic(plan)
    assert router.target == (router_host(plan.config), "containerId", plan.config.network.router.vm_id)
    assert (router.index, router.mac) == (1, router_lan_mac(plan.config))
    # The router's rules and IP set: none (it serves DHCP and forwards other sources).
    assert set(_by_target(plan, FIREWALL_IPSET)) == {nic.target for nic in nics.values()} - {router.target}
    assert set(_by_target(plan, FIREWALL_RULES)) == {nic.target for nic in nics.values()} - {router.target}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_options_filter_macs_addresses_and_router_advertisements(stack: str) -> None:
    plan = stack_plan(stack)
    router = _router_nic(plan)
    for target, options in _by_target(plan, FIREWALL_OPTIONS).items():
        inputs = options.inputs
        is_router = target == router.target
        assert inputs["enabled"] is True
        assert inputs["macfilter"] is True
        assert inputs["radv"] is False, "bpg sends radv=1 unless told otherwise"
        assert inputs["ndp"] is True
        assert (inputs["inputPolicy"], inputs["outputPolicy"]) == ("ACCEPT", "ACCEPT"), "flows: the router's job"
        # `dhcp` accepts DHCP client traffic ahead of the IP filter (DISCOVER comes from 0.0.0.0).
        assert inputs["dhcp"] is not is_router
        assert inputs["ipfilter"] is not is_router


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_ip_filter_pins_each_guest_to_its_reservation(stack: str) -> None:
    plan = stack_plan(stack)
    config, nics, reservations = plan.config, _lab_nics(plan), _reservations(plan)
    ipsets = _by_target(plan, FIREWALL_IPSET)
    guests = {g.name: g for g in lab_guests(config)}
    for guest in guests.values():
        nic = nics[f"{guest.key}-vm" if guest.is_talos else f"{guest.key}-container"]
        ipset = ipsets[nic.target].inputs
        assert ipset["name"] == f"ipfilter-net{nic.index}"
        assert nic.mac == guest.mac
        assert f"({nic.mac})" in ipset["comment"]
        entries = [cidr["name"] for cidr in ipset["cidrs"]]
        assert entries[0] == reservations[nic.mac.upper()] == str(guest.address)
        shared = [str(config.load_balancer.pool)] if guest.is_talos else []
        if guest.role is Role.CONTROL_PLANE and config.cluster.vip is not None:
            shared.append(str(config.cluster.vip))
        assert entries[1:] == shared
        others = [g.address for g in guests.values() if g is not guest] + [config.network.router.address]
        claimed = [a for a in others for entry in entries if a in ipaddress.ip_network(entry)]
        assert not claimed, f"{guest.name} may send from another's address"


def test_ip_filter_entries_are_written_as_proxmox_stores_them() -> None:
    # Proxmox strips /32 from hosts: anything else would show a change on every run.
    assert ip_filter_entries(["192.168.1.201", "192.168.1.10/32", "10.10.10.0/24"]) == [
        "192.168.1.201",
        "192.168.1.10",
        "10.10.10.0/24",
    ]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_guests_may_not_serve_dhcp(stack: str) -> None:
    plan = stack_plan(stack)
    for target, rules in _by_target(plan, FIREWALL_RULES).items():
        nic = next(n for n in _lab_nics(plan).values() if n.target == target)
        dropped = {
            (rule["sport"], rule["dport"])
            for rule in rules.inputs["rules"]
            if (rule["type"], rule["action"], rule["proto"], rule["iface"]) == ("out", "DROP", "udp", f"net{nic.index}")
            and rule.get("enabled", True)
        }
        assert dropped == {("67", "68"), ("547", "546")}, nic.guest.name


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_firewall_is_a_child_of_its_guest_and_waits_for_it(stack: str) -> None:
    plan = stack_plan(stack)
    components = {r.urn: r for r in plan.by_type(GUEST_FIREWALL)}
    client = client_guest(plan.config).key
    expected_parent = {nic.guest.urn: nic.guest.parent for nic in _lab_nics(plan).values()}
    assert {named(plan, n).urn for n in ("router", client)} <= set(expected_parent.values())
    for token in (FIREWALL_OPTIONS, FIREWALL_IPSET, FIREWALL_RULES):
        for resource in _guest_objects(plan, token):
            component = components[resource.parent]
            (guest,) = [urn for urn in resource.dependencies if urn in expected_parent]
            assert component.parent == expected_parent[guest], resource.name
    for options in plan.by_type(FIREWALL_OPTIONS):
        siblings = {r.urn for r in plan.registrations if r.parent == options.parent and r.custom} - {options.urn}
        assert siblings <= set(options.dependencies), "the filters are in place before the firewall is enabled"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_firewall_is_set_again_when_its_guest_is_replaced(stack: str) -> None:
    # A replaced guest comes back with no firewall configuration; the names are fixed per guest.
    plan = stack_plan(stack)
    guests = {nic.guest.urn for nic in _lab_nics(plan).values()}
    for token in (FIREWALL_OPTIONS, FIREWALL_IPSET, FIREWALL_RULES):
        for resource in _guest_objects(plan, token):
            (guest,) = [urn for urn in resource.dependencies if urn in guests]
            assert resource.options.replace_with == [guest], resource.name
            assert resource.options.delete_before_replace, resource.name
