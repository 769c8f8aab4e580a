"""`homelab plan` contract (DESIGN §6): files, determinism, exit codes, formats."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from config.guests import talos_nodes
from plan.out_dir import MANIFEST
from tests.support import STACKS, file_tree, run_homelab, stack_config

RECORD_KEYS = {
    "urn",
    "type",
    "name",
    "parent",
    "provider",
    "custom",
    "dependencies",
    "inputs",
    "secretInputs",
    "options",
}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_homelab("plan", *args)


tree = file_tree


@pytest.fixture(scope="module")
def example_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan-example")
    result = run_cli("--stack", "dev", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def test_example_plan_writes_every_contract_file(example_out: Path) -> None:
    config = stack_config("dev")
    expected = {
        "resources.json",
        "graph.mmd",
        "router/dnsmasq.conf",
        "router/nftables.nft",
        "router/network.json",
        "router/setup.sh",
        "helm/metallb.values.yaml",
        "helm/traefik.values.yaml",
        *(f"talos/{node.name}.yaml" for node in talos_nodes(config)),
        "client/lifecycle.sh",
        "client/homelab-renew-credentials",
        "client/homelab-renew-credentials.service",
        "client/homelab-renew-credentials.timer",
        "client/homelab-etcd-backup",
        "client/homelab-etcd-backup.service",
        "client/homelab-etcd-backup.timer",
    }
    written = set(tree(example_out))
    assert expected <= written
    assert any(name.startswith("kubernetes/ingress-") for name in written)
    assert {name.split("/")[0] for name in written} == {
        MANIFEST,
        "resources.json",
        "graph.mmd",
        "router",
        "talos",
        "client",
        "helm",
        "kubernetes",
    }


def test_resources_json_records_have_the_contract_keys(example_out: Path) -> None:
    records = json.loads((example_out / "resources.json").read_text())
    assert records
    urns = [r["urn"] for r in records]
    assert len(urns) == len(set(urns))
    seen = {r["parent"] for r in records if "::pulumi:pulumi:Stack::" in r["parent"]}
    assert len(seen) == 1  # top-level components hang off the stack
    for record in records:
        assert set(record) == RECORD_KEYS
        # In order: whatever a record waits for comes before it.
        for earlier in (record["parent"], record["provider"], *record["dependencies"]):
            assert not earlier or earlier in seen, f"{record['name']} listed before {earlier}"
        seen.add(record["urn"])


def test_graph_is_a_mermaid_flowchart(example_out: Path) -> None:
    graph = (example_out / "graph.mmd").read_text()
    assert graph.startswith("flowchart LR\n")
    assert "-->" in graph
    assert "homelab:talos:TalosCluster" in graph


def test_two_runs_write_identical_files(example_out: Path, tmp_path: Path) -> None:
    result = run_cli("--stack", "dev", "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert tree(tmp_path) == tree(example_out)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_every_valid_stack_plans(stack: str, tmp_path: Path) -> None:
    result = run_cli("--config-file", STACKS[stack], "--out", tmp_path, "--format", "json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["resources"] == len(json.loads((tmp_path / "resources.json").read_text()))
    assert (
        summary["laptop"]["hostsLine"]
        == f"{stack_config(stack).load_balancer.ingress_address} {stack_config(stack).site.host}"
    )


def test_text_summary_shows_addresses_path_and_laptop_commands() -> None:
    result = run_cli("--stack", "dev")
    assert result.returncode == 0, result.stderr
    for expected in (
        "192.168.1.201",
        "BC:24:11:",
        "10.10.10.10 www.example.com",
        "sudo ip route add 10.10.10.0/24 via 192.168.0.200",
        "sudo route -n add -net 192.168.1.0/24 192.168.0.200",
        "Service example-service:80",
        'kubeconfig: "[secret]"',
    ):
        assert expected in result.stdout


def test_missing_stack_file_exits_2_without_traceback(tmp_path: Path) -> None:
    result = run_cli("--config-file", tmp_path / "Pulumi.nope.yaml", "--out", tmp_path / "out")
    assert result.returncode == 2
    assert "cannot read the stack file" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_usage_errors_exit_2() -> None:
    result = run_cli("--format", "xml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_unwritable_out_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the plan's folder should go")
    result = run_cli("--stack", "dev", "--out", blocker)
    assert result.returncode == 1
    assert f"cannot write the plan to {blocker}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_plan_leaves_no_file_of_an_earlier_plan_behind(tmp_path: Path) -> None:
    out, fresh = tmp_path / "out", tmp_path / "fresh"
    assert run_cli("--config-file", STACKS["ha"], "--out", out).returncode == 0
    assert (out / "talos" / "cp-3.yaml").is_file()
    notes = out / "notes.txt"
    notes.write_text("the user's own file, not the plan's")
    result = run_cli("--stack", "dev", "--out", out)
    assert result.returncode == 0, result.stderr
    assert run_cli("--stack", "dev", "--out", fresh).returncode == 0
    assert tree(out) == tree(fresh) | {"notes.txt": notes.read_bytes()}
