"""The Proxmox layer under mocks: bridge, containers, image, VMs, and their wiring."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from components.router.files import render_router_files
from components.talos.client_tools import client_tools_script
from config.guests import client_guest, hosts_in_use, router_lan_mac, talos_nodes
from plan.write import plan_files
from tests.network.tools import require_tools
from tests.support import (
    BRIDGE,
    CONTAINER,
    DOWNLOAD,
    SCHEMATIC,
    STACK_NAMES,
    VM,
    named,
    stack_config,
    stack_plan,
    upstream,
)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_one_lab_bridge_per_host_that_carries_a_guest(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    bridges = plan.by_type(BRIDGE)
    assert sorted(b.inputs["nodeName"] for b in bridges) == sorted(hosts_in_use(config))
    for bridge in bridges:
        assert bridge.inputs["name"] == config.network.bridge
        assert bridge.inputs["ports"] == config.network.bridge_ports.get(bridge.inputs["nodeName"], [])
        # No address on the host unless configured (the ha stack gives pve-a one, for the storage plugin).
        address = config.network.host_addresses.get(bridge.inputs["nodeName"])
        assert bridge.inputs.get("address") == (None if address is None else str(address))


def test_example_stack_has_the_seed_topology() -> None:
    plan = stack_plan("dev")
    vms = plan.by_type(VM)
    assert [(v.inputs["name"], v.inputs["vmId"]) for v in vms] == [
        ("cp-1", 201),
        ("worker-1", 202),
        ("worker-2", 203),
    ]
    assert len(plan.by_type(CONTAINER)) == 2
    assert len(plan.by_type(SCHEMATIC)) == 1
    assert sorted(d.inputs["contentType"] for d in plan.by_type(DOWNLOAD)) == ["iso", "vztmpl"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_vms_match_their_nodes(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    vms = {v.inputs["name"]: v.inputs for v in plan.by_type(VM)}
    assert sorted(vms) == sorted(n.name for n in talos_nodes(config))
    for node in talos_nodes(config):
        vm = vms[node.name]
        assert vm["nodeName"] == node.proxmox_node
        assert vm["vmId"] == node.vm_id
        assert vm["cpu"]["cores"] == node.cores
        assert vm["memory"]["dedicated"] == node.memory_mib
        assert vm["disks"][0]["size"] == node.disk_gib
        assert vm["disks"][0]["datastoreId"] == config.proxmox.vm_datastore
        (nic,) = vm["networkDevices"]
        assert (nic["macAddress"], nic["bridge"], nic["model"]) == (node.mac, config.network.bridge, "virtio")
        assert vm["bootOrders"] == ["scsi0", "ide2"]  # disk first, then the ISO
        assert vm["cdrom"]["fileId"].endswith(".iso")
        assert vm["cdrom"]["fileId"].startswith(f"{config.proxmox.iso_datastore}:iso/")
        assert vm["agent"]["enabled"] is True
        assert vm["stopOnDestroy"] is True


def test_placement_over_three_hosts() -> None:
    plan = stack_plan("ha")
    placement = {v.inputs["name"]: v.inputs["nodeName"] for v in plan.by_type(VM)}
    assert placement == {
        "cp-1": "pve-a",  # one control plane per host
        "cp-2": "pve-b",
        "cp-3": "pve-c",
        "w-1": "pve-c",  # workers by their own ranking of the hosts (config.placement)
        "w-2": "pve-b",
        "w-3": "pve-a",  # pinned with proxmoxNode
        "w-4": "pve-c",
        "w-5": "pve-c",
    }
    isos = plan.by_type(DOWNLOAD)
    assert sorted(d.inputs["nodeName"] for d in isos if d.inputs["contentType"] == "iso") == ["pve-a", "pve-b", "pve-c"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_guests_are_created_in_parallel(stack: str) -> None:
    plan = stack_plan(stack)
    guests = {r.urn for r in plan.by_type(VM)} | {named(plan, f"{client_guest(plan.config).key}-container").urn}
    for guest in guests:
        registration = next(r for r in plan.registrations if r.urn == guest)
        assert not (upstream(plan, registration) & guests), f"{registration.name} waits for another guest"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_router_reservations_equal_the_guests_nics(stack: str) -> None:
    plan = stack_plan(stack)
    dnsmasq = plan_files(plan)["router/dnsmasq.conf"]
    reservations = set(re.findall(r"^dhcp-host=([0-9A-F:]+),([\d.]+),([a-z0-9-]+)$", dnsmasq, re.MULTILINE))
    nics = {(v.inputs["networkDevices"][0]["macAddress"], v.inputs["name"]) for v in plan.by_type(VM)}
    client = named(plan, f"{client_guest(plan.config).key}-container").inputs
    nics.add((client["networkInterfaces"][0]["macAddress"], client["initialization"]["hostname"]))
    addresses = {g.name: str(g.address) for g in [*talos_nodes(plan.config), client_guest(plan.config)]}
    assert reservations == {(mac, addresses[name], name) for mac, name in nics}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_router_container_has_wan_and_lan(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    router = config.network.router
    container = named(plan, "router-container").inputs
    eth0, eth1 = container["networkInterfaces"]
    assert (eth0["name"], eth0["bridge"]) == ("eth0", config.proxmox.wan_bridge)
    assert (eth1["name"], eth1["bridge"], eth1["macAddress"]) == ("eth1", config.network.bridge, router_lan_mac(config))
    wan, lan = container["initialization"]["ipConfigs"]
    assert wan["ipv4"] == {"address": str(router.wan_address), "gateway": str(router.wan_gateway)}
    assert lan["ipv4"] == {"address": f"{router.address}/{config.network.cidr.prefixlen}"}
    assert container["unprivileged"] is True
    assert container["operatingSystem"]["templateFileId"].startswith(f"{config.proxmox.iso_datastore}:vztmpl/")


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_router_configuration_is_pushed_as_stdin_without_triggers(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    configure = named(plan, "router-configure")
    setup = render_router_files(config).setup_sh
    assert configure.inputs["stdin"] == setup
    assert setup not in configure.inputs["create"]
    assert configure.inputs["connection"] == "[secret]"  # carries the management private key
    assert named(plan, "router-container").urn in configure.dependencies
    # A changed script is an update, which runs `create` again; a trigger would make it a replacement.
    assert "triggers" not in configure.inputs


def test_router_script_changes_only_with_the_rendered_files() -> None:
    config = stack_config("dev")
    same = render_router_files(config).setup_sh
    other = config.model_copy(
        update={"network": config.network.model_copy(update={"upstream_dns": config.network.upstream_dns[:1]})}
    )
    assert render_router_files(config).setup_sh == same
    assert render_router_files(other).setup_sh != same


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_client_container_on_the_lab_bridge_with_dhcp(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    client = client_guest(config)
    container = named(plan, f"{client.key}-container")
    (nic,) = container.inputs["networkInterfaces"]
    assert (nic["bridge"], nic["macAddress"]) == (config.network.bridge, client.mac)
    assert container.inputs["initialization"]["ipConfigs"] == [{"ipv4": {"address": "dhcp"}}]
    assert container.inputs["nodeName"] == client.proxmox_node
    assert named(plan, "router-configure").urn in container.dependencies  # DHCP must answer at its first boot
    tools = named(plan, f"{client.key}-tools")
    assert tools.inputs["stdin"] == client_tools_script(config.cluster.talos_version, config.cluster.kubernetes_version)


def test_client_tools_are_pinned_and_verified() -> None:
    script = client_tools_script("v1.13.9", "1.36.3")
    assert "/download/v1.13.9/talosctl-linux-amd64" in script
    assert "/release/v1.36.3/bin/linux/amd64/kubectl" in script
    assert script.count("sha256sum --check --strict") == 2


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_both_containers_authorise_the_management_key_and_the_users_keys(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    for name in ("router-container", f"{client_guest(config).key}-container"):
        keys = named(plan, name).inputs["initialization"]["userAccount"]["keys"]
        assert keys[0].startswith("ssh-ed25519 ") and keys[0].endswith("homelab-management")
        assert keys[1:] == config.ssh_public_keys


def test_schematic_carries_the_guest_agent() -> None:
    (schematic,) = stack_plan("dev").by_type(SCHEMATIC)
    assert "siderolabs/qemu-guest-agent" in schematic.inputs["schematic"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_stack_outputs_give_addresses_and_laptop_routes(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    outputs = plan.outputs
    wan = str(config.network.router.wan_address.ip)
    assert outputs["routerWanAddress"] == wan
    assert outputs["routerLanAddress"] == str(config.network.router.address)
    assert outputs["nodeAddresses"] == {n.name: str(n.address) for n in talos_nodes(config)}
    assert outputs["routesLinux"] == [
        f"sudo ip route add {config.network.cidr} via {wan}",
        f"sudo ip route add {config.load_balancer.pool} via {wan}",
    ]
    assert outputs["routesMacos"] == [
        f"sudo route -n add -net {config.network.cidr} {wan}",
        f"sudo route -n add -net {config.load_balancer.pool} {wan}",
    ]
    assert outputs["managementPrivateKey"] == "[secret]"
    assert {"kubeconfig", "talosconfig", "managementPrivateKey"} <= set(plan.secret_outputs)


def test_client_tools_script_passes_shellcheck(tmp_path: Path) -> None:
    tools = require_tools("shellcheck")
    script = tmp_path / "client-tools.sh"
    script.write_text(client_tools_script("v1.13.9", "1.36.3"), encoding="utf-8")
    result = subprocess.run(
        [tools["shellcheck"], "--shell=bash", str(script)], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stdout


def test_a_new_talos_version_replaces_neither_vms_nor_isos() -> None:
    plan = stack_plan("dev")
    for vm in plan.by_type(VM):
        # Their CD-ROM follows the ISO's id, which a new version leaves as it is.
        assert vm.options.ignore_changes == []
    for download in plan.by_type(DOWNLOAD):
        if download.inputs["contentType"] == "iso":
            assert download.options.ignore_changes == ["fileName", "url"]
