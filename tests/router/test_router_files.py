"""The router's files: golden copies (two processes write the same: tests/plan/test_determinism.py) and network.json.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/router/test_router_files.py` and review the diff.
"""

from __future__ import annotations

import json
import os

import pytest

from components.router.files import render_router_files
from config.loading import load_stack_file
from tests.router.rendered import files
from tests.support import REPO, STACKS, stack_config

GOLDEN = REPO / "tests/golden/router"
FILE_NAMES = ("dnsmasq.conf", "nftables.nft", "network.json", "setup.sh")
INTERFACES = ("all", "default", "eth0", "eth1")


@pytest.mark.parametrize("name", FILE_NAMES)
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_matches_golden_file(stack: str, name: str) -> None:
    rendered = files(stack).as_files()[name]
    golden = GOLDEN / stack / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert rendered == golden.read_text(encoding="utf-8"), f"{name} differs from {golden} (UPDATE_GOLDEN=1 rewrites)"


def test_the_router_files_are_the_contract_files_in_order() -> None:
    assert list(render_router_files(load_stack_file(STACKS["ha"])).as_files()) == list(FILE_NAMES)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_network_json(stack: str) -> None:
    config = stack_config(stack)
    router = config.network.router
    text = files(stack).network_json
    network = json.loads(text)
    assert network["wan"] == {
        "interface": "eth0",
        "address": str(router.wan_address),
        "gateway": str(router.wan_gateway),
    }
    assert network["lan"] == {"interface": "eth1", "address": f"{router.address}/{config.network.cidr.prefixlen}"}
    assert network["routes"] == [{"to": str(config.load_balancer.pool), "dev": "eth1"}]
    assert network["forwarding"] == {"net.ipv4.ip_forward": "1"}
    assert text == json.dumps(network, indent=2, sort_keys=True) + "\n"


def test_network_json_protections() -> None:
    sysctl: dict[str, str] = json.loads(files("dev").network_json)["sysctl"]
    assert not [key for key in sysctl if "forward" in key], "forwarding is switched on only after the ruleset loads"
    for interface in INTERFACES:
        assert sysctl[f"net.ipv4.conf.{interface}.rp_filter"] == "1", "strict reverse path"
        for setting in ("accept_redirects", "send_redirects", "accept_source_route"):
            assert sysctl[f"net.ipv4.conf.{interface}.{setting}"] == "0"
        assert sysctl[f"net.ipv6.conf.{interface}.accept_ra"] == "0", "router advertisements ignored"
        assert sysctl[f"net.ipv6.conf.{interface}.autoconf"] == "0"
    assert sysctl["net.ipv6.conf.eth1.disable_ipv6"] == "1", "no IPv6 on the lab side"
