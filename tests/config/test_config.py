"""Stack config (DESIGN §5): MAC derivation, the Pulumi-config path `pulumi up` uses, guest
placement and the valid stacks' shape (the fixtures themselves: test_fixtures.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import config as runtime_config

from config.guests import (
    PROXMOX_MAC_PREFIX,
    derive_mac,
    hosts_in_use,
    lab_guests,
    router_host,
    router_lan_mac,
    router_wan_mac,
)
from config.loading import (
    SECRET_PLACEHOLDER,
    ConfigError,
    apply_stack_file,
    load_lab_config,
    load_stack_file,
    parse_lab_config,
    read_stack_file,
)
from config.models import LabConfig
from tests.support import REPO

EXAMPLE = REPO / "Pulumi.dev.yaml"
HA = REPO / "tests" / "fixtures" / "valid" / "ha-two-hosts.yaml"
VALID_STACKS = [EXAMPLE, *sorted((REPO / "tests" / "fixtures" / "valid").glob("*.yaml"))]
MAC_FORMAT = re.compile(r"^[0-9A-F]{2}(:[0-9A-F]{2}){5}$")


def _id(path: Path) -> str:
    return path.stem


def _homelab_keys(path: Path) -> dict[str, Any]:
    """A stack file's `homelab:` keys (namespace stripped), as plain data to edit in a test."""
    values, _ = read_stack_file(path)
    return {
        key.removeprefix("homelab:"): json.loads(value) for key, value in values.items() if key.startswith("homelab:")
    }


def _configured_macs(config: LabConfig) -> dict[str, str | None]:
    specs = [*config.cluster.control_planes, *config.cluster.workers, config.client]
    return {spec.name: spec.mac for spec in specs}


@pytest.fixture(autouse=True)
def _restore_pulumi_config() -> Iterator[None]:
    """`apply_stack_file` (and the CLI) fill Pulumi's process-wide runtime config: start and end empty."""
    runtime_config.set_all_config({}, [])
    yield
    runtime_config.set_all_config({}, [])


def test_example_stack_is_the_design_topology() -> None:
    config = load_stack_file(EXAMPLE)

    addresses = {guest.name: str(guest.address) for guest in lab_guests(config)}
    assert addresses == {
        "cp-1": "192.168.1.201",
        "worker-1": "192.168.1.202",
        "worker-2": "192.168.1.203",
        "talos-client": "192.168.1.204",
    }
    assert str(config.network.router.address) == "192.168.1.200"
    assert str(config.network.router.wan_address) == "192.168.0.200/24"
    assert str(config.load_balancer.pool) == "10.10.10.0/24"
    assert str(config.load_balancer.ingress_address) == "10.10.10.10"
    assert config.site.host == "www.example.com"
    assert config.cluster.vip is None


def test_minimal_stack_gets_the_documented_defaults() -> None:
    config = load_stack_file(REPO / "tests" / "fixtures" / "valid" / "minimal.yaml")

    assert config.network.bridge == "vmbr1"
    assert config.proxmox.wan_bridge == "vmbr0"
    assert (config.proxmox.vm_datastore, config.proxmox.iso_datastore) == ("local-lvm", "local")
    assert [str(server) for server in config.network.upstream_dns] == ["1.1.1.1", "9.9.9.9"]
    assert (config.cluster.name, config.cluster.talos_version, config.cluster.kubernetes_version) == (
        "homelab",
        "v1.13.9",
        "1.36.3",
    )
    assert (config.site.host, config.site.replicas) == ("www.example.com", 2)
    assert config.cluster.workers == []


# --- MAC derivation (DESIGN §4) ------------------------------------------------------------------


def test_derived_mac_is_deterministic_under_the_proxmox_prefix() -> None:
    mac = derive_mac("homelab", "cp-1")

    assert mac == derive_mac("homelab", "cp-1")
    # Pinned: a change here would give every existing guest a new NIC and DHCP reservation.
    assert mac == "BC:24:11:04:FA:69"
    assert PROXMOX_MAC_PREFIX == "BC:24:11"
    assert mac.startswith("BC:24:11:")
    assert MAC_FORMAT.match(mac)
    assert int(mac[:2], 16) & 1 == 0, "unicast"


def test_derived_mac_differs_per_guest_cluster_and_nic() -> None:
    names = [f"worker-{index}" for index in range(1, 51)]
    assert len({derive_mac("homelab", name) for name in names}) == len(names)
    assert derive_mac("homelab", "cp-1") != derive_mac("lab2", "cp-1")
    assert derive_mac("homelab", "router", "lan") != derive_mac("homelab", "router", "wan")


@pytest.mark.parametrize("path", VALID_STACKS, ids=_id)
def test_guest_macs_are_unique_unicast_and_apart_from_the_router(path: Path) -> None:
    config = load_stack_file(path)
    guests = lab_guests(config)
    macs = [guest.mac for guest in guests]

    assert len(set(macs)) == len(macs)
    assert all(MAC_FORMAT.match(mac) and int(mac[:2], 16) & 1 == 0 for mac in macs)
    assert router_lan_mac(config) not in macs
    assert router_wan_mac(config) not in {*macs, router_lan_mac(config)}
    configured = _configured_macs(config)
    for guest in guests:
        assert guest.mac == (configured[guest.name] or derive_mac(config.cluster.name, guest.name))


def test_configured_mac_wins_over_derivation() -> None:
    config = load_stack_file(HA)
    guests = {guest.name: guest for guest in lab_guests(config)}

    assert guests["cp-2"].mac == "02:00:00:77:00:12"
    assert guests["cp-2"].mac != derive_mac("lab2", "cp-2")
    assert guests["cp-1"].mac == derive_mac("lab2", "cp-1")


def test_configured_mac_is_normalised_to_upper_case() -> None:
    raw = _homelab_keys(EXAMPLE)
    raw["client"]["mac"] = "02:ab:cd:00:00:01"
    raw["network"]["router"]["mac"] = "02:ab:cd:00:00:02"

    config = parse_lab_config(raw)

    assert next(guest.mac for guest in lab_guests(config) if guest.name == "talos-client") == "02:AB:CD:00:00:01"
    assert router_lan_mac(config) == "02:AB:CD:00:00:02"


def test_unquoted_mac_in_a_stack_file_is_a_mac_not_a_number(tmp_path: Path) -> None:
    # YAML 1.1 (PyYAML) would read 52:54:00:12:34:56 as a base-60 integer; Pulumi's CLI reads a string.
    text = EXAMPLE.read_text(encoding="utf-8")
    worker = "{name: worker-1, address: 192.168.1.202, vmId: 202}"
    stack = tmp_path / "Pulumi.mac.yaml"
    stack.write_text(text.replace(worker, worker[:-1] + ", mac: 52:54:00:12:34:56}"), encoding="utf-8")

    from_file = load_stack_file(stack)
    apply_stack_file(stack)
    from_pulumi = load_lab_config()

    for config in (from_file, from_pulumi):
        assert next(guest.mac for guest in lab_guests(config) if guest.name == "worker-1") == "52:54:00:12:34:56"


# --- the Pulumi-config path (`pulumi up`) --------------------------------------------------------


@pytest.mark.parametrize("path", VALID_STACKS, ids=_id)
def test_pulumi_config_path_gives_the_same_lab_config(path: Path) -> None:
    apply_stack_file(path)

    values = runtime_config.CONFIG.get()
    assert values, "the stack's keys are in Pulumi's runtime config"
    assert all(isinstance(value, str) for value in values.values()), "Pulumi holds config values as strings"
    assert json.loads(values["homelab:network"])["cidr"] == str(load_stack_file(path).network.cidr)
    assert load_lab_config() == load_stack_file(path)


def test_pulumi_config_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    values, _ = read_stack_file(EXAMPLE)
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(values))

    assert load_lab_config() == load_stack_file(EXAMPLE)


def test_secure_values_become_secret_placeholders() -> None:
    apply_stack_file(HA)

    assert runtime_config.get_config("proxmoxve:apiToken") == SECRET_PLACEHOLDER == "[secret]"
    assert runtime_config.is_config_secret("proxmoxve:apiToken")
    assert not runtime_config.is_config_secret("homelab:network")
    assert not runtime_config.is_config_secret("proxmoxve:endpoint")


def test_example_stack_commits_no_secret() -> None:
    values, secret_keys = read_stack_file(EXAMPLE)

    assert secret_keys == []
    assert SECRET_PLACEHOLDER not in json.dumps(values)


def test_nested_secure_value_marks_its_whole_key_secret(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.nested.yaml"
    text = EXAMPLE.read_text(encoding="utf-8")
    stack.write_text(text + "  proxmoxve:ssh: {username: root, password: {secure: v1:AAAAcipher}}\n", encoding="utf-8")

    apply_stack_file(stack)

    assert json.loads(runtime_config.get_config("proxmoxve:ssh")) == {"username": "root", "password": "[secret]"}
    assert runtime_config.is_config_secret("proxmoxve:ssh")
    assert load_lab_config() == load_stack_file(EXAMPLE), "other namespaces do not reach the lab config"


# --- placement over Proxmox hosts ----------------------------------------------------------------


def test_guests_are_placed_by_vm_id_unless_placed() -> None:
    config = load_stack_file(HA)

    placement = {guest.name: guest.proxmox_node for guest in lab_guests(config)}

    # Control planes one per host (3 on 3 hosts); the others by their own ranking of the hosts.
    assert placement == {
        "cp-1": "pve-a",
        "cp-2": "pve-b",
        "cp-3": "pve-c",
        "w-1": "pve-c",
        "w-2": "pve-b",
        "w-3": "pve-a",  # proxmoxNode: pve-a
        "w-4": "pve-c",
        "w-5": "pve-c",
        "ops": "pve-b",
    }
    assert router_host(config) == "pve-a"
    assert hosts_in_use(config) == ["pve-a", "pve-b", "pve-c"]


def test_single_host_carries_everything() -> None:
    config = load_stack_file(EXAMPLE)

    assert {guest.proxmox_node for guest in lab_guests(config)} == {"pve"}
    assert router_host(config) == "pve"
    assert hosts_in_use(config) == ["pve"]


def test_hosts_in_use_leaves_out_hosts_without_guests() -> None:
    raw = _homelab_keys(EXAMPLE)
    raw["proxmox"]["nodes"] = ["pve-a", "pve-b", "pve-c", "pve-d", "pve-e", "pve-f"]
    raw["network"]["bridgePorts"] = {host: ["enp1s0"] for host in ("pve-a", "pve-b", "pve-d", "pve-f")}

    config = parse_lab_config(raw)

    placement = [guest.proxmox_node for guest in lab_guests(config)]
    assert placement == ["pve-a", "pve-b", "pve-d", "pve-f"]  # cp-1 (with the router), worker-1, worker-2, client
    assert hosts_in_use(config) == ["pve-a", "pve-b", "pve-d", "pve-f"]


def test_everything_placed_on_one_host_needs_no_bridge_ports() -> None:
    raw = _homelab_keys(EXAMPLE)
    raw["proxmox"]["nodes"] = ["pve-a", "pve-b"]
    raw["network"]["router"]["proxmoxNode"] = "pve-b"
    for spec in [*raw["cluster"]["controlPlanes"], *raw["cluster"]["workers"], raw["client"]]:
        spec["proxmoxNode"] = "pve-b"

    config = parse_lab_config(raw)

    assert {guest.proxmox_node for guest in lab_guests(config)} == {"pve-b"}
    assert router_host(config) == "pve-b"
    assert hosts_in_use(config) == ["pve-b"]
    assert config.network.bridge_ports == {}


def test_router_on_a_host_of_its_own_counts_as_in_use() -> None:
    raw = _homelab_keys(EXAMPLE)
    raw["proxmox"]["nodes"] = ["pve-a", "pve-b"]
    for spec in [*raw["cluster"]["controlPlanes"], *raw["cluster"]["workers"], raw["client"]]:
        spec["proxmoxNode"] = "pve-b"

    with pytest.raises(ConfigError) as caught:
        parse_lab_config(raw)

    assert [problem.path for problem in caught.value.problems] == [
        "network.bridgePorts.pve-a",
        "network.bridgePorts.pve-b",
    ]
