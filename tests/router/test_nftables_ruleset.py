"""The router's nftables.nft: the rules that carry DESIGN §1's table, and the kernel accepts it.

The namespace suite (tests/network) proves what the rules do; these pin where they sit.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.router.files import render_router_files
from tests.network.tools import require_root, require_tools
from tests.router.rendered import files, rule
from tests.support import STACKS, stack_config


@pytest.fixture
def netns() -> Iterator[str]:
    """A throwaway network namespace, so checking and loading rulesets touches nothing else."""
    require_root("nft talks to the kernel, even to check a ruleset")
    name = f"hl{os.getpid()}-nft"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def nft(netns: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["ip", "netns", "exec", netns, "nft", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)


def _chain(ruleset: str, name: str) -> list[str]:
    body = ruleset.split(f"\tchain {name} {{\n", 1)[1].split("\n\t}\n", 1)[0]
    return [line.strip() for line in body.splitlines() if line.strip() and not line.strip().startswith("#")]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_default_drop_and_one_transaction(stack: str) -> None:
    nft_text = files(stack).nftables_nft
    assert nft_text.startswith("#!/usr/sbin/nft -f\n")
    assert nft_text.splitlines().count("flush ruleset") == 1, "reloading must replace the ruleset, not add to it"
    assert len(rule(nft_text, "hook input", "policy drop;")) == 1
    assert len(rule(nft_text, "hook forward", "policy drop;")) == 1


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_the_table_of_flows(stack: str) -> None:
    config = stack_config(stack)
    forward = _chain(files(stack).nftables_nft, "forward")
    lab, pool, ingress = config.network.cidr, config.load_balancer.pool, config.load_balancer.ingress_address
    wan_to_lab = 'iifname "eth0" oifname "eth1"'
    assert forward[4:10] == [
        f"{wan_to_lab} ip saddr @admins ip daddr {lab} tcp dport {{ 22, 6443, 50000 }} accept",
        f"{wan_to_lab} ip saddr @admins ip daddr {lab} icmp type echo-request accept",
        f"{wan_to_lab} ip daddr {ingress} tcp dport {{ 80, 443 }} accept",
        f'iifname "eth1" oifname "eth1" ip saddr {lab} ip daddr {pool} tcp dport {{ 80, 443 }} accept',
        f'iifname "eth1" oifname "eth0" ip saddr {lab} ip daddr != @not_internet accept',
        'iifname "eth0" meta l4proto tcp reject with tcp reset',
    ]
    assert not [line for line in forward if "@admins accept" in line or ("@admins" in line and "eth0" not in line)]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_revocation_comes_before_established(stack: str) -> None:
    nft_text = files(stack).nftables_nft
    for chain, ports in (("input", "22"), ("forward", "{ 22, 6443, 50000 }")):
        rules = _chain(nft_text, chain)
        revoke = f'iifname "eth0" ct direction original tcp dport {ports} ip saddr != @admins reject with tcp reset'
        assert revoke in rules
        assert rules.index(revoke) < rules.index("ct state established,related accept"), chain


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_anti_spoofing_and_router_advertisements(stack: str) -> None:
    config = stack_config(stack)
    sides = f"{{ {config.network.cidr}, {config.load_balancer.pool} }}"
    prerouting = _chain(files(stack).nftables_nft, "prerouting")
    assert prerouting[0] == "type filter hook prerouting priority raw; policy accept;", "before connection tracking"
    assert f'iifname "eth1" ip saddr != {sides} drop' in prerouting
    assert f'iifname "eth0" ip saddr {sides} drop' in prerouting
    assert "meta nfproto ipv4 fib saddr . iif oif missing drop" in prerouting
    assert "icmpv6 type nd-router-advert drop" in prerouting


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_sets_and_masquerading(stack: str) -> None:
    config = stack_config(stack)
    nft_text = files(stack).nftables_nft
    network = config.network
    admins = ", ".join(str(cidr) for cidr in ipaddress.collapse_addresses(network.admin_cidrs))
    assert f"\t\telements = {{ {admins} }}\n" in nft_text
    lab, pool = network.cidr, config.load_balancer.pool
    assert [line for line in rule(nft_text, "masquerade") if not line.startswith("#")] == [
        f'oifname "eth0" ip saddr {lab} masquerade',
        f'oifname "eth1" ip saddr {lab} ip daddr {pool} masquerade',
    ]


def test_overlapping_admin_cidrs_are_collapsed() -> None:
    base = stack_config("dev")
    wider = ipaddress.IPv4Network(base.network.admin_cidrs[0]).supernet(new_prefix=16)
    config = base.model_copy(
        update={"network": base.network.model_copy(update={"admin_cidrs": [*base.network.admin_cidrs, wider]})}
    )
    nft_text = render_router_files(config).nftables_nft
    assert f"\t\telements = {{ {wider} }}\n" in nft_text


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_nft_accepts_the_ruleset(stack: str, netns: str, tmp_path: Path) -> None:
    require_tools("nft")
    ruleset = tmp_path / "nftables.nft"
    ruleset.write_text(files(stack).nftables_nft, encoding="utf-8")
    result = nft(netns, "-c", "-f", str(ruleset))
    assert result.returncode == 0, result.stderr


def test_loading_the_ruleset_twice_gives_the_same_ruleset(netns: str, tmp_path: Path) -> None:
    require_tools("nft")
    ruleset = tmp_path / "nftables.nft"
    ruleset.write_text(files("ha").nftables_nft, encoding="utf-8")
    listings: list[str] = []
    for _ in range(2):
        loaded = nft(netns, "-f", str(ruleset))
        assert loaded.returncode == 0, loaded.stderr
        listings.append(nft(netns, "list", "ruleset").stdout)
    assert listings[0] == listings[1]
    assert "masquerade" in listings[0]


def _set_elements(ruleset: str, name: str) -> list[ipaddress.IPv4Network]:
    body = ruleset.split(f"\tset {name} {{\n", 1)[1].split("\n\t}\n", 1)[0]
    elements = body.split("elements = {", 1)[1].split("}", 1)[0]
    return [ipaddress.IPv4Network(item.strip()) for item in elements.split(",")]


# One address in each special-purpose range, and a few on the internet.
NOT_INTERNET = [
    "0.1.2.3",
    "10.1.2.3",
    "100.64.0.1",
    "100.127.255.254",
    "127.0.0.1",
    "169.254.169.254",
    "172.16.0.1",
    "172.31.255.254",
    "192.0.0.8",
    "192.0.2.1",
    "192.88.99.1",
    "192.168.77.1",
    "198.18.0.1",
    "198.19.255.254",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.251",
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
]
INTERNET = [
    "1.1.1.1",
    "8.8.8.8",
    "9.9.9.9",
    "100.63.255.255",
    "100.128.0.0",
    "172.32.0.1",
    "198.20.0.1",
    "223.255.255.1",
]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_the_lab_reaches_no_special_purpose_network_through_the_wan(stack: str) -> None:
    config = stack_config(stack)
    nft_text = files(stack).nftables_nft
    refused = _set_elements(nft_text, "not_internet")
    network = config.network
    for address in [
        *NOT_INTERNET,
        str(network.router.wan_gateway),
        *(str(c.network_address) for c in network.admin_cidrs),
    ]:
        assert any(ipaddress.IPv4Address(address) in net for net in refused), address
    for address in INTERNET:
        assert not any(ipaddress.IPv4Address(address) in net for net in refused), address
    # The only way from the lab out of the WAN side.
    forward = _chain(nft_text, "forward")
    assert [line for line in forward if 'oifname "eth0"' in line and "accept" in line] == [
        f'iifname "eth1" oifname "eth0" ip saddr {network.cidr} ip daddr != @not_internet accept'
    ]
