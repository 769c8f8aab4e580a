"""What config.guests derives for the components: the Talos nodes, the client, the cluster endpoint
and the router's WAN MAC."""

from __future__ import annotations

import ipaddress

from config.guests import (
    Role,
    client_guest,
    cluster_endpoint_address,
    derive_mac,
    lab_guests,
    router_lan_mac,
    router_wan_mac,
    talos_nodes,
)
from tests.support import stack_config


def test_talos_nodes_are_the_control_planes_then_the_workers() -> None:
    nodes = talos_nodes(stack_config("ha"))
    assert [node.name for node in nodes] == ["cp-1", "cp-2", "cp-3", "w-1", "w-2", "w-3", "w-4", "w-5"]
    assert {node.role for node in nodes} == {Role.CONTROL_PLANE, Role.WORKER}
    assert all(node.is_talos for node in nodes)


def test_the_client_is_not_a_talos_node() -> None:
    client = client_guest(stack_config("ha"))
    assert (client.name, client.role, client.is_talos) == ("ops", Role.CLIENT, False)
    assert client.config_path == "client"


def test_cluster_endpoint_is_the_vip_or_the_first_control_plane() -> None:
    assert cluster_endpoint_address(stack_config("ha")) == ipaddress.IPv4Address("10.77.0.10")
    assert cluster_endpoint_address(stack_config("dev")) == ipaddress.IPv4Address("192.168.1.201")


def test_router_wan_mac_is_derived_from_the_cluster_and_router_names() -> None:
    # Pinned: a change gives the router a new WAN NIC (and the home router a new neighbour).
    assert router_wan_mac(stack_config("dev")) == derive_mac("homelab", "router", "wan") == "BC:24:11:85:1F:32"


def test_guests_carry_their_sizes_and_roles() -> None:
    guests = {guest.name: guest for guest in lab_guests(stack_config("ha"))}
    assert (guests["w-1"].cores, guests["w-1"].memory_mib, guests["w-1"].disk_gib) == (4, 8192, 40)
    assert (guests["w-2"].cores, guests["w-2"].memory_mib, guests["w-2"].disk_gib) == (2, 4096, 20)
    assert (guests["ops"].cores, guests["ops"].memory_mib, guests["ops"].disk_gib) == (1, 1024, 8)
    assert (guests["cp-1"].role, guests["w-1"].role, guests["ops"].role) == (
        Role.CONTROL_PLANE,
        Role.WORKER,
        Role.CLIENT,
    )


def test_router_lan_mac_is_derived_unless_given() -> None:
    # Pinned: a change gives the router a new lab NIC and every guest a new gateway neighbour.
    assert router_lan_mac(stack_config("dev")) == derive_mac("homelab", "router", "lan") == "BC:24:11:A3:04:C9"


def test_guests_are_keyed_by_what_proxmox_keys_them_by_not_their_names() -> None:
    config = stack_config("ha")
    assert {node.name: node.key for node in talos_nodes(config)}["w-1"] == "vm-7021"
    assert all(node.key == f"vm-{node.vm_id}" and node.former_key == node.name for node in talos_nodes(config))
    client = client_guest(config)
    assert (client.key, client.former_key) == ("talos-client", "ops")
