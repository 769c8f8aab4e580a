"""The router's files: golden copies, validity (dnsmasq, nft, shellcheck) and content.

Regenerate the golden files after an intended change with
`UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_router_files.py` and review the diff.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import yaml

from components.router.files import (
    DNSMASQ_PATH,
    NETWORK_JSON_PATH,
    NFTABLES_PATH,
    SYSCTL_PATH,
    RouterFiles,
    render_router_files,
)
from config.guests import lab_guests
from config.loading import load_stack_file, parse_lab_config
from config.models import LabConfig
from tests.network.tools import require_root, require_tools
from tests.support import REPO, STACKS, stack_config

GOLDEN = REPO / "tests/golden/router"
FILE_NAMES = ("dnsmasq.conf", "nftables.nft", "network.json", "setup.sh")


@cache
def _files(stack: str) -> RouterFiles:
    return render_router_files(stack_config(stack))


def _with_dynamic_range() -> LabConfig:
    """The example stack plus a dynamic range: 50 addresses from the 101st host of the LAN."""
    document = yaml.safe_load(STACKS["dev"].read_text(encoding="utf-8"))["config"]
    raw = {key.removeprefix("homelab:"): value for key, value in document.items() if key.startswith("homelab:")}
    hosts = list(ipaddress.IPv4Network(raw["network"]["cidr"]).hosts())
    raw["network"] = {**raw["network"], "dynamicRange": {"start": str(hosts[100]), "end": str(hosts[149])}}
    return parse_lab_config(raw)


def _lines(text: str, prefix: str) -> list[str]:
    return [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]


# --- golden files and determinism ------------------------------------------------


@pytest.mark.parametrize("name", FILE_NAMES)
@pytest.mark.parametrize("stack", sorted(STACKS))
def test_matches_golden_file(stack: str, name: str) -> None:
    rendered = _files(stack).as_files()[name]
    golden = GOLDEN / stack / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert golden.is_file(), f"{golden} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert rendered == golden.read_text(encoding="utf-8"), f"{name} differs from {golden} (UPDATE_GOLDEN=1 rewrites)"


def test_same_input_same_bytes() -> None:
    first = render_router_files(load_stack_file(STACKS["ha"]))
    second = render_router_files(load_stack_file(STACKS["ha"]))
    assert first.as_files() == second.as_files()
    assert list(first.as_files()) == list(FILE_NAMES)


# --- dnsmasq.conf ----------------------------------------------------------------


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_one_reservation_per_guest(stack: str) -> None:
    hosts = [line.split(",") for line in _lines(_files(stack).dnsmasq_conf, "dhcp-host=")]
    guests = lab_guests(stack_config(stack))
    assert sorted(hosts) == sorted([guest.mac, str(guest.address), guest.name] for guest in guests)
    for guest in guests:
        assert sum(guest.mac in host for host in hosts) == 1, f"{guest.name}: not exactly one dhcp-host line"


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_dhcp_and_dns_only_on_the_lab_interface(stack: str) -> None:
    conf = _files(stack).dnsmasq_conf
    assert _lines(conf, "interface=") == ["eth1"]
    assert "bind-dynamic" in conf.splitlines(), "without bind-*, dnsmasq answers on every interface (the WAN too)"
    assert not [line for line in conf.splitlines() if "eth0" in line]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_router_is_gateway_and_dns_and_forwards_upstream(stack: str) -> None:
    config = stack_config(stack)
    conf = _files(stack).dnsmasq_conf
    router = str(config.network.router.address)
    assert _lines(conf, "dhcp-option=") == [f"option:router,{router}", f"option:dns-server,{router}"]
    assert _lines(conf, "server=") == [str(server) for server in config.network.upstream_dns]
    lines = conf.splitlines()
    assert {"no-resolv", "dhcp-authoritative"} <= set(lines)
    assert _lines(conf, "dhcp-leasefile=") == ["/var/lib/misc/dnsmasq.leases"]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_static_range_only_by_default(stack: str) -> None:
    lan = stack_config(stack).network.cidr
    assert _lines(_files(stack).dnsmasq_conf, "dhcp-range=") == [f"{lan.network_address},static,{lan.netmask},12h"]


def test_dynamic_range_when_configured() -> None:
    config = _with_dynamic_range()
    span = config.network.dynamic_range
    assert span is not None
    ranges = _lines(render_router_files(config).dnsmasq_conf, "dhcp-range=")
    netmask = config.network.cidr.netmask
    assert ranges == [
        f"{config.network.cidr.network_address},static,{netmask},12h",
        f"{span.start},{span.end},{netmask},12h",
    ]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_dnsmasq_accepts_the_config(stack: str, tmp_path: Path) -> None:
    tools = require_tools("dnsmasq")
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(_files(stack).dnsmasq_conf, encoding="utf-8")
    result = subprocess.run(
        [tools["dnsmasq"], "--test", f"--conf-file={conf}"], capture_output=True, text=True, check=False, timeout=10
    )
    assert result.returncode == 0, result.stderr
    assert "syntax check OK" in result.stderr


def test_dnsmasq_accepts_the_dynamic_range(tmp_path: Path) -> None:
    tools = require_tools("dnsmasq")
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(render_router_files(_with_dynamic_range()).dnsmasq_conf, encoding="utf-8")
    result = subprocess.run(
        [tools["dnsmasq"], "--test", f"--conf-file={conf}"], capture_output=True, text=True, check=False, timeout=10
    )
    assert result.returncode == 0, result.stderr


# --- nftables.nft ----------------------------------------------------------------


def _rule(ruleset: str, *parts: str) -> list[str]:
    return [line.strip() for line in ruleset.splitlines() if all(part in line for part in parts)]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_firewall_rules(stack: str) -> None:
    config = stack_config(stack)
    nft = _files(stack).nftables_nft
    admin = "{ " + ", ".join(str(cidr) for cidr in config.network.admin_cidrs) + " }"
    lab, pool = config.network.cidr, config.load_balancer.pool
    assert nft.startswith("#!/usr/sbin/nft -f\n")
    assert "flush ruleset" in nft.splitlines(), "reloading must replace the ruleset, not add to it"
    assert len(_rule(nft, "hook input", "policy drop;")) == 1
    assert len(_rule(nft, "hook forward", "policy drop;")) == 1
    assert _rule(nft, "ct state established,related accept") != []
    assert _rule(nft, 'iifname "eth1" accept') == ['iifname "eth1" accept']
    assert _rule(nft, f"ip daddr {pool} tcp dport {{ 80, 443 }} accept") != []
    assert _rule(nft, f"ip saddr {admin} ip daddr {lab} tcp dport {{ 22, 6443, 50000 }} accept") != []
    assert _rule(nft, 'iifname "eth0"', "reject") != []
    assert _rule(nft, f'oifname "eth0" ip saddr {lab} masquerade') != []
    assert _rule(nft, f"ip saddr {admin} tcp dport 22 accept") != []
    assert _rule(nft, 'iifname "eth1" udp dport 67 accept') != []
    assert _rule(nft, 'iifname "eth1"', "th dport 53 accept") != []


def test_overlapping_admin_cidrs_are_collapsed() -> None:
    base = stack_config("dev")
    wider = ipaddress.IPv4Network(base.network.admin_cidrs[0]).supernet(new_prefix=16)
    config = base.model_copy(
        update={"network": base.network.model_copy(update={"admin_cidrs": [*base.network.admin_cidrs, wider]})}
    )
    nft = render_router_files(config).nftables_nft
    assert _rule(nft, f"ip saddr {{ {wider} }} tcp dport 22 accept") != []


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


def _nft(netns: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = ["ip", "netns", "exec", netns, "nft", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_nft_accepts_the_ruleset(stack: str, netns: str, tmp_path: Path) -> None:
    require_tools("nft")
    ruleset = tmp_path / "nftables.nft"
    ruleset.write_text(_files(stack).nftables_nft, encoding="utf-8")
    result = _nft(netns, "-c", "-f", str(ruleset))
    assert result.returncode == 0, result.stderr


def test_loading_the_ruleset_twice_gives_the_same_ruleset(netns: str, tmp_path: Path) -> None:
    require_tools("nft")
    ruleset = tmp_path / "nftables.nft"
    ruleset.write_text(_files("ha").nftables_nft, encoding="utf-8")
    listings: list[str] = []
    for _ in range(2):
        loaded = _nft(netns, "-f", str(ruleset))
        assert loaded.returncode == 0, loaded.stderr
        listings.append(_nft(netns, "list", "ruleset").stdout)
    assert listings[0] == listings[1]
    assert "masquerade" in listings[0]


# --- network.json ----------------------------------------------------------------


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_network_json(stack: str) -> None:
    config = stack_config(stack)
    router = config.network.router
    text = _files(stack).network_json
    expected = {
        "wan": {"interface": "eth0", "address": str(router.wan_address), "gateway": str(router.wan_gateway)},
        "lan": {"interface": "eth1", "address": f"{router.address}/{config.network.cidr.prefixlen}"},
        "routes": [{"to": str(config.load_balancer.pool), "dev": "eth1"}],
        "sysctl": {"net.ipv4.ip_forward": "1"},
    }
    assert json.loads(text) == expected
    assert text == json.dumps(expected, indent=2, sort_keys=True) + "\n"


# --- setup.sh --------------------------------------------------------------------


def _heredocs(script: str) -> dict[str, str]:
    """Each heredoc of the script by the file it writes: {'"$staging/dnsmasq.conf"': content}."""
    pattern = re.compile(r"^cat >(\S+) <<'(\w+)'\n(.*?)^\2\n", re.MULTILINE | re.DOTALL)
    return {match[1]: match[3] for match in pattern.finditer(script)}


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_setup_sh_embeds_the_rendered_files(stack: str) -> None:
    files = _files(stack)
    script = files.setup_sh
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script
    embedded = _heredocs(script)
    assert embedded['"$staging/dnsmasq.conf"'] == files.dnsmasq_conf
    assert embedded['"$staging/nftables.nft"'] == files.nftables_nft
    assert embedded['"$staging/network.json"'] == files.network_json
    validate = script.index('dnsmasq --test --conf-file="$staging/dnsmasq.conf"')
    assert (
        validate
        < script.index('nft -c -f "$staging/nftables.nft"')
        < script.index(f'put "$staging/dnsmasq.conf" {DNSMASQ_PATH}')
    )


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_shellcheck_passes(stack: str, tmp_path: Path) -> None:
    tools = require_tools("shellcheck")
    script = tmp_path / "setup.sh"
    script.write_text(_files(stack).setup_sh, encoding="utf-8")
    result = subprocess.run(
        [tools["shellcheck"], "--shell=bash", str(script)], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stdout


# The router, simulated: a private mount namespace with /etc as an overlay (every write lands
# in $root/upper), a private network namespace wired like the container, and stubs for the
# package manager and systemd. Everything else (dnsmasq --test, nft, ip, sysctl) is real.
_SANDBOX = r"""
set -euo pipefail
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$root/upper,workdir=$root/work" /etc
ip link add eth0 type veth peer name wan-peer
ip link add eth1 type veth peer name lan-peer
for link in lo eth0 eth1 wan-peer lan-peer; do ip link set "$link" up; done
ip addr add "$WAN_ADDRESS" dev eth0
ip addr add "$LAN_ADDRESS" dev eth1
for run in 1 2; do
  bash "$root/setup.sh" >"$root/run$run.log" 2>&1
  (cd "$root/upper" && find . -type f -printf '%p %T@\n' | sort) >"$root/snapshot$run"
  cp "$root/calls" "$root/calls$run"
done
ip -4 route show >"$root/routes"
sysctl -n net.ipv4.ip_forward >"$root/forwarding"
"""
_STUBS = {
    "dpkg-query": 'grep -qx "${@: -1}" "$root/installed" && echo installed || echo not-installed\n',
    "apt-get": 'echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >>"$root/calls"\n'
    'if [[ $1 == install ]]; then printf "%s\\n" "${@:5}" >>"$root/installed"; fi\n',
    "systemctl": 'echo "systemctl $*" >>"$root/calls"\n',
}


def _run_setup_in_sandbox(files: RouterFiles, network: dict[str, dict[str, str]], root: Path) -> None:
    require_root("setup.sh runs in private mount and network namespaces")
    tools = require_tools("unshare", "dnsmasq", "nft", "sysctl")
    for folder in ("upper", "work", "bin"):
        (root / folder).mkdir()
    (root / "installed").write_text("", encoding="utf-8")
    (root / "calls").write_text("", encoding="utf-8")
    (root / "setup.sh").write_text(files.setup_sh, encoding="utf-8")
    for name, body in _STUBS.items():
        (root / "bin" / name).write_text(f"#!/usr/bin/env bash\n{body}", encoding="utf-8")
        (root / "bin" / name).chmod(0o755)
    environment = {
        "PATH": f"{root / 'bin'}:{os.environ['PATH']}",
        "root": str(root),
        "WAN_ADDRESS": network["wan"]["address"],
        "LAN_ADDRESS": network["lan"]["address"],
    }
    command = [tools["unshare"], "--mount", "--net", "--propagation", "private", "bash", "-c", _SANDBOX]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False, timeout=60)
    logs = "".join(path.read_text(encoding="utf-8") for path in sorted(root.glob("run*.log")))
    assert result.returncode == 0, f"{result.stderr}\n{logs}"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("router")
    files = _files("dev")
    _run_setup_in_sandbox(files, json.loads(files.network_json), root)
    return root


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_setup_sh_installs_the_files_and_configures_the_router(sandbox: Path) -> None:
    files, config = _files("dev"), stack_config("dev")
    etc = sandbox / "upper"
    installed = {
        DNSMASQ_PATH: files.dnsmasq_conf,
        NFTABLES_PATH: files.nftables_nft,
        NETWORK_JSON_PATH: files.network_json,
    }
    for path, content in installed.items():
        assert _read(etc / path.removeprefix("/etc/")) == content, path
    assert "net.ipv4.ip_forward = 1" in _read(etc / SYSCTL_PATH.removeprefix("/etc/"))
    assert _read(sandbox / "forwarding").strip() == "1"
    assert f"{config.load_balancer.pool} dev eth1" in _read(sandbox / "routes")
    unit = _read(etc / "systemd/system/homelab-network.service")
    assert f"ExecStart=/sbin/ip route replace {config.load_balancer.pool} dev eth1" in unit


def test_setup_sh_installs_missing_packages_noninteractively(sandbox: Path) -> None:
    calls = _read(sandbox / "calls1").splitlines()
    assert "apt-get install -y -q --no-install-recommends dnsmasq nftables DEBIAN_FRONTEND=noninteractive" in calls
    assert "systemctl enable --quiet nftables.service homelab-network.service dnsmasq.service" in calls
    assert "systemctl restart dnsmasq.service" in calls


def test_setup_sh_second_run_changes_nothing(sandbox: Path) -> None:
    assert _read(sandbox / "snapshot1") == _read(sandbox / "snapshot2"), "the second run rewrote files"
    assert "updated" not in _read(sandbox / "run2.log")
    second_run = _read(sandbox / "calls2").removeprefix(_read(sandbox / "calls1")).splitlines()
    assert not [call for call in second_run if call.startswith("apt-get")]
    assert f"homelab: updated {DNSMASQ_PATH}" in _read(sandbox / "run1.log")


def test_setup_sh_activates_nothing_when_validation_fails(tmp_path: Path) -> None:
    files = _files("dev")
    broken = files.setup_sh.replace("\nbind-dynamic\n", "\nbind-dynamic\nno-such-option\n", 1)
    assert broken != files.setup_sh
    network = json.loads(files.network_json)
    with pytest.raises(AssertionError, match="dnsmasq: bad option"):
        _run_setup_in_sandbox(
            RouterFiles(files.dnsmasq_conf, files.nftables_nft, files.network_json, broken), network, tmp_path
        )
    assert not list((tmp_path / "upper").rglob("*.conf")), "a file was installed although validation failed"
    assert "systemctl" not in _read(tmp_path / "calls")


def test_setup_sh_refuses_a_router_wired_differently(tmp_path: Path) -> None:
    files = _files("dev")
    network = json.loads(files.network_json)
    lan = ipaddress.IPv4Interface(network["lan"]["address"])
    network["lan"]["address"] = str(ipaddress.IPv4Interface(f"{lan.ip + 1}/{lan.network.prefixlen}"))
    with pytest.raises(AssertionError, match=f"eth1 does not have the address {lan}"):
        _run_setup_in_sandbox(files, network, tmp_path)
    assert not list((tmp_path / "upper").rglob("*.conf"))
