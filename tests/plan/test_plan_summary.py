"""The plan's summary and graph (DESIGN §6): guests with ids and sizes, per-host totals, dependency order."""

from __future__ import annotations

import json
import re

import pytest

from components.talos.image import EXTENSIONS, schematic_yaml
from config.guests import lab_guests, router_host
from plan.graph import component_edges, dependency_order, plan_graph, without_shortcuts
from plan.mocks import schematic_id
from plan.summary import summary_data, summary_text
from tests.support import DOWNLOAD, STACK_NAMES, stack_plan

EDGE = re.compile(r"^  (n\d+) --> (n\d+)$", re.MULTILINE)


def _reachable(edges: set[tuple[str, str]], source: str) -> set[str]:
    seen: set[str] = set()
    todo = [target for start, target in edges if start == source]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo += [target for start, target in edges if start == node]
    return seen


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_guest_is_listed_with_id_host_and_size(stack: str) -> None:
    plan = stack_plan(stack)
    text = summary_text(plan)
    router = plan.config.network.router
    expected = [(router.name, router.vm_id, router_host(plan.config), router.cores, router.memory_mib, router.disk_gib)]
    expected += [(g.name, g.vm_id, g.proxmox_node, g.cores, g.memory_mib, g.disk_gib) for g in lab_guests(plan.config)]
    listed = [
        (g["name"], g["vmId"], g["host"], g["cores"], g["memoryMiB"], g["diskGiB"])
        for g in summary_data(plan)["guests"]
    ]
    assert listed == expected
    guests = text.split("\nGuests ", 1)[1].split("\n\n", 1)[0].splitlines()
    for name, vm_id, host, cores, memory, disk in expected:
        line = next(line for line in guests if line.startswith(f"  {name} "))
        assert re.search(rf" {vm_id} +on {host} +{cores} cpu +{memory} MiB +{disk} GiB ", line), line


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_host_totals_add_up_what_each_host_must_hold(stack: str) -> None:
    plan = stack_plan(stack)
    data = summary_data(plan)
    datastore = plan.config.proxmox.vm_datastore
    for host in data["hosts"]:
        mine = [g for g in data["guests"] if g["host"] == host["host"]]
        assert host["guests"] == [g["name"] for g in mine]
        assert host["memoryMiB"] == sum(g["memoryMiB"] for g in mine)
        assert host["cores"] == sum(g["cores"] for g in mine)
        assert host["diskGiB"] == {datastore: sum(g["diskGiB"] for g in mine)}
        downloads = [r.inputs for r in plan.by_type(DOWNLOAD) if r.inputs["nodeName"] == host["host"]]
        assert len(host["files"]) == len(downloads)
        if any(g["kind"] == "VM" for g in mine):
            iso = f"{plan.config.proxmox.iso_datastore}:iso/{plan.config.cluster.name}-talos-"
            assert any(f.startswith(iso) for f in host["files"])
        if any(g["kind"] == "LXC" for g in mine):
            assert any(":vztmpl/" in f and "debian" in f for f in host["files"])
    assert {h["host"] for h in data["hosts"]} == {g["host"] for g in data["guests"]}


def test_counts_are_english_and_providers_are_no_components() -> None:
    plan = stack_plan("dev")
    text = summary_text(plan)
    assert not re.search(r"\b1 resources\b", text)
    assert re.search(r"\b1 resource\n", text)
    assert all(not c["type"].startswith("pulumi:providers:") for c in summary_data(plan)["components"])


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_components_are_listed_after_what_they_wait_for(stack: str) -> None:
    plan = stack_plan(stack)
    order = [r.urn for r in dependency_order(plan.registrations)]
    for source, target in component_edges(plan.registrations):
        assert order.index(source) < order.index(target)
    by_urn = {r.urn: r.name for r in plan.registrations}
    listed = [c["name"] for c in summary_data(plan)["components"]]
    assert listed == [by_urn[urn] for urn in order if by_urn[urn] in listed]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_graph_has_no_shortcut_edges_and_keeps_every_dependency(stack: str) -> None:
    plan = stack_plan(stack)
    edges = component_edges(plan.registrations)
    kept = without_shortcuts(edges)
    assert kept < edges, "the example has implied edges to drop"
    for source, target in kept:
        assert target not in _reachable(kept - {(source, target)}, source), "an edge another path implies"
    for source, _ in edges:
        assert _reachable(kept, source) == _reachable(edges, source)
    assert len(EDGE.findall(plan_graph(plan))) == len(kept)


def test_graph_shows_where_each_guest_lives() -> None:
    graph = plan_graph(stack_plan("ha"))
    # Guests are keyed by VM id (the client by its role); the note names them as the stack does.
    assert '"vm-7021<br/>w-1 · 10.77.0.21 · VM 7021 on pve-c<br/>' in graph
    assert '"talos-client<br/>ops · 10.77.0.30 · LXC 7030 on pve-b<br/>' in graph
    assert "10.77.0.1 · LXC 7000 on pve-a" in graph


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_summary_shows_every_choice_of_the_stack(stack: str) -> None:
    plan = stack_plan(stack)
    config, text = plan.config, summary_text(plan)
    choices = text.split("\nYour choices ", 1)[1].split("\n\n", 1)[0]
    router = config.network.router
    assert f"  WAN:            router {router.wan_address}, gateway {router.wan_gateway}\n" in choices
    assert f"  Admins:         {', '.join(map(str, config.network.admin_cidrs))} (" in choices
    bridges = f"{config.proxmox.wan_bridge} (home LAN, exists), {config.network.bridge} (lab, created)"
    assert f"  Bridges:        {bridges}" in choices
    for host, ports in config.network.bridge_ports.items():
        assert f"{host}: {', '.join(ports)}" in choices
    assert f"Talos {config.cluster.talos_version}, Kubernetes {config.cluster.kubernetes_version}," in choices
    assert f"  Proxmox hosts:  {', '.join(config.proxmox.nodes)} (in use: " in choices
    assert f"pool {config.load_balancer.pool}, ingress {config.load_balancer.ingress_address}" in choices
    chosen = summary_data(plan)["choices"]
    assert chosen["wanGateway"] == str(router.wan_gateway)
    assert chosen["adminCidrs"] == [str(cidr) for cidr in config.network.admin_cidrs]
    assert chosen["proxmoxHosts"] == list(config.proxmox.nodes)
    assert chosen["vip"] == (None if config.cluster.vip is None else str(config.cluster.vip))


def test_summary_lists_the_steps_left_by_hand_in_order() -> None:
    plan = stack_plan("dev")
    steps = summary_data(plan)["manualSteps"]
    text = summary_text(plan)
    assert all(f"  {index}. {step}\n" in text for index, step in enumerate(steps, start=1))
    expected = [
        "apiToken",
        "pvesh set /cluster/firewall/options --enable 1",
        "sudo ip route add 10.10.10.0/24 via 192.168.0.200",
        "`10.10.10.10 www.example.com` to /etc/hosts",
        "pulumi stack output caCertificate > lab-ca.pem",
        "pulumi stack output kubeconfig --show-secrets > kubeconfig",
        "./dev check --stack dev",
    ]
    assert [next(i for i, step in enumerate(steps) if words in step) for words in expected] == list(range(7))


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_no_mock_value_is_shown_as_the_labs(stack: str) -> None:
    plan = stack_plan(stack)
    assert "MOCK" in plan.outputs["caCertificate"], "the plan ran under mocks"
    shown = summary_text(plan) + json.dumps(summary_data(plan))
    assert "MOCK" not in shown
    assert "TU9DSw==" not in shown  # the mark, base64-encoded
    assert "  caCertificate: (known after pulumi up)\n" in summary_text(plan)
    outputs = summary_data(plan)["outputs"]
    assert outputs["caCertificate"] == "(known after pulumi up)"
    # What the stack decides is shown as it is.
    assert outputs["hostsLine"] == plan.outputs["hostsLine"]
    assert outputs["clusterEndpoint"] == plan.outputs["clusterEndpoint"]
    assert outputs["nodeAddresses"] == plan.outputs["nodeAddresses"]


def test_the_talos_iso_is_named_by_the_factorys_real_schematic_id() -> None:
    # The image factory's id of the qemu-guest-agent schematic, as its site and Talos' Proxmox guide show it.
    qemu_guest_agent = "ce4c980550dd2ab1b17bbf2b08801c7eb59418eafe8f279833297925d67c7515"
    assert schematic_id(schematic_yaml(EXTENSIONS)) == qemu_guest_agent
    assert f"downloads local:iso/homelab-talos-v1.13.9-nocloud-amd64-{qemu_guest_agent[:12]}.iso\n" in summary_text(
        stack_plan("dev")
    )
