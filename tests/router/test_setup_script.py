"""setup.sh: embeds the rendered files, validates before activating, is idempotent, fails closed.

The router is simulated: a private mount namespace with /etc as an overlay (every write lands
in $root/upper), a private network namespace wired like the container, and stubs for the
package manager and systemd. Everything else (dnsmasq --test, nft, ip, sysctl) is real.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from components.router.files import DNSMASQ_PATH, NETWORK_JSON_PATH, NFTABLES_PATH, SYSCTL_PATH, RouterFiles
from tests.network.tools import require_root, require_tools
from tests.router.rendered import files
from tests.support import STACKS, stack_config

DROP_IN = '"$staging/nftables-drop-in.conf"'


def _heredocs(script: str) -> dict[str, str]:
    """Each heredoc of the script by the file it writes: {'"$staging/dnsmasq.conf"': content}."""
    pattern = re.compile(r"^cat >(\S+) <<'(\w+)'\n(.*?)^\2\n", re.MULTILINE | re.DOTALL)
    return {match[1]: match[3] for match in pattern.finditer(script)}


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_setup_sh_embeds_the_rendered_files(stack: str) -> None:
    rendered = files(stack)
    script = rendered.setup_sh
    assert script.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in script
    embedded = _heredocs(script)
    assert embedded['"$staging/dnsmasq.conf"'] == rendered.dnsmasq_conf
    assert embedded['"$staging/nftables.nft"'] == rendered.nftables_nft
    assert embedded['"$staging/network.json"'] == rendered.network_json
    validate = script.index('dnsmasq --test --conf-file="$staging/dnsmasq.conf"')
    assert (
        validate
        < script.index('nft -c -f "$staging/nftables.nft"')
        < script.index(f'put "$staging/dnsmasq.conf" {DNSMASQ_PATH}')
    )


def test_forwarding_follows_the_ruleset() -> None:
    """At boot (nftables.service's drop-in) and in setup.sh: on only after the load, off before the flush."""
    script = files("dev").setup_sh
    drop_in = _heredocs(script)[DROP_IN].splitlines()
    assert drop_in[2:] == [
        "[Service]",
        f"ExecStartPre=-/sbin/sysctl -q -e -p {SYSCTL_PATH}",
        "ExecStartPre=/sbin/sysctl -q -w net.ipv4.ip_forward=0",
        "ExecStartPost=/sbin/sysctl -q -w net.ipv4.ip_forward=1",
        "ExecStop=",
        "ExecStop=/sbin/sysctl -q -w net.ipv4.ip_forward=0",
        "ExecStop=/usr/sbin/nft flush ruleset",
    ]
    reload = script.index("\nsystemctl reload-or-restart nftables.service\n")
    assert reload < script.index("\nsysctl -q -w net.ipv4.ip_forward=1\n")
    assert script.count("ip_forward=1") == 2, "the drop-in's and setup.sh's, nowhere else"


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_shellcheck_passes(stack: str, tmp_path: Path) -> None:
    tools = require_tools("shellcheck")
    script = tmp_path / "setup.sh"
    script.write_text(files(stack).setup_sh, encoding="utf-8")
    result = subprocess.run(
        [tools["shellcheck"], "--shell=bash", str(script)], capture_output=True, text=True, check=False, timeout=30
    )
    assert result.returncode == 0, result.stdout


_SANDBOX = r"""
set -euo pipefail
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$root/upper,workdir=$root/work" /etc
ip link add eth0 type veth peer name wan-peer
ip link add eth1 type veth peer name lan-peer
for link in lo eth0 eth1 wan-peer lan-peer; do ip link set "$link" up; done
ip addr add "$WAN_ADDRESS" dev eth0
ip addr add "$LAN_ADDRESS" dev eth1
sysctl -q -w net.ipv4.ip_forward="${FORWARDING_BEFORE:-0}"
for run in 1 2; do
  status=0
  bash "$root/setup.sh" >"$root/run$run.log" 2>&1 || status=$?
  sysctl -n net.ipv4.ip_forward >"$root/forwarding$run"
  (cd "$root/upper" && find . -type f -printf '%p %T@\n' | sort) >"$root/snapshot$run"
  cp "$root/calls" "$root/calls$run"
  if ((status)); then exit "$status"; fi
done
ip -4 route show >"$root/routes"
sysctl -n net.ipv4.conf.all.rp_filter >"$root/rp_filter"
"""
_STUBS = {
    "dpkg-query": 'grep -qx "${@: -1}" "$root/installed" && echo installed || echo not-installed\n',
    "apt-get": 'echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >>"$root/calls"\n'
    'sysctl -n net.ipv4.ip_forward >>"$root/forwarding-during-apt"\n'
    'if [[ $1 == install ]]; then printf "%s\\n" "${@:5}" >>"$root/installed"; fi\n',
    # nftables.service's reload is `nft -f /etc/nftables.conf`; NFT_FAILS makes it fail as a broken load would.
    "systemctl": 'echo "systemctl $*" >>"$root/calls"\n'
    'if [[ "$*" == "reload-or-restart nftables.service" ]]; then\n'
    "  if [[ -n ${NFT_FAILS:-} ]]; then exit 1; fi\n"
    "  nft -f /etc/nftables.conf\n"
    "fi\n",
}


def _run_setup_in_sandbox(
    rendered: RouterFiles,
    network: dict[str, dict[str, str]],
    root: Path,
    nft_fails: bool = False,
    forwarding_before: bool = False,
) -> None:
    require_root("setup.sh runs in private mount and network namespaces")
    tools = require_tools("unshare", "dnsmasq", "nft", "sysctl")
    for folder in ("upper", "work", "bin"):
        (root / folder).mkdir()
    (root / "installed").write_text("", encoding="utf-8")
    (root / "calls").write_text("", encoding="utf-8")
    (root / "setup.sh").write_text(rendered.setup_sh, encoding="utf-8")
    for name, body in _STUBS.items():
        (root / "bin" / name).write_text(f"#!/usr/bin/env bash\n{body}", encoding="utf-8")
        (root / "bin" / name).chmod(0o755)
    environment = {
        "PATH": f"{root / 'bin'}:{os.environ['PATH']}",
        "root": str(root),
        "WAN_ADDRESS": network["wan"]["address"],
        "LAN_ADDRESS": network["lan"]["address"],
        **({"NFT_FAILS": "1"} if nft_fails else {}),
        "FORWARDING_BEFORE": "1" if forwarding_before else "0",
    }
    command = [tools["unshare"], "--mount", "--net", "--propagation", "private", "bash", "-c", _SANDBOX]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False, timeout=60)
    logs = "".join(path.read_text(encoding="utf-8") for path in sorted(root.glob("run*.log")))
    assert result.returncode == 0, f"{result.stderr}\n{logs}"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("router")
    rendered = files("dev")
    _run_setup_in_sandbox(rendered, json.loads(rendered.network_json), root)
    return root


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_setup_sh_installs_the_files_and_configures_the_router(sandbox: Path) -> None:
    rendered, config = files("dev"), stack_config("dev")
    etc = sandbox / "upper"
    installed = {
        DNSMASQ_PATH: rendered.dnsmasq_conf,
        NFTABLES_PATH: rendered.nftables_nft,
        NETWORK_JSON_PATH: rendered.network_json,
    }
    for path, content in installed.items():
        assert _read(etc / path.removeprefix("/etc/")) == content, path
    assert "net.ipv4.conf.all.rp_filter = 1" in _read(etc / SYSCTL_PATH.removeprefix("/etc/"))
    assert _read(sandbox / "rp_filter").strip() == "1"
    assert _read(sandbox / "forwarding1").strip() == "1"
    assert f"{config.load_balancer.pool} dev eth1" in _read(sandbox / "routes")
    unit = _read(etc / "systemd/system/homelab-network.service")
    assert f"ExecStart=/sbin/ip route replace {config.load_balancer.pool} dev eth1" in unit
    assert "ip_forward" not in unit
    assert _read(etc / "systemd/system/nftables.service.d/homelab.conf") == _heredocs(rendered.setup_sh)[DROP_IN]


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


def test_setup_sh_does_not_forward_when_the_ruleset_fails_to_load(tmp_path: Path) -> None:
    rendered = files("dev")
    with pytest.raises(AssertionError):
        _run_setup_in_sandbox(rendered, json.loads(rendered.network_json), tmp_path, nft_fails=True)
    assert _read(tmp_path / "forwarding1").strip() == "0"
    assert "systemctl restart dnsmasq.service" not in _read(tmp_path / "calls")


def test_setup_sh_turns_forwarding_off_before_it_installs_anything(tmp_path: Path) -> None:
    """A router forwarding without its ruleset (e.g. a fresh container someone switched on) stops first."""
    rendered = files("dev")
    _run_setup_in_sandbox(rendered, json.loads(rendered.network_json), tmp_path, forwarding_before=True)
    assert _read(tmp_path / "forwarding-during-apt").split() == ["0", "0"]
    assert _read(tmp_path / "forwarding1").strip() == "1"
    script = rendered.setup_sh
    guard = script.index(
        "if ! nft list table inet filter >/dev/null 2>&1; then\n  sysctl -q -w net.ipv4.ip_forward=0\nfi"
    )
    assert guard < script.index("require_address eth0") < script.index("ensure_packages dnsmasq nftables")


def test_setup_sh_activates_nothing_when_validation_fails(tmp_path: Path) -> None:
    rendered = files("dev")
    broken = rendered.setup_sh.replace("\nbind-dynamic\n", "\nbind-dynamic\nno-such-option\n", 1)
    assert broken != rendered.setup_sh
    network = json.loads(rendered.network_json)
    with pytest.raises(AssertionError, match="dnsmasq: bad option"):
        _run_setup_in_sandbox(
            RouterFiles(rendered.dnsmasq_conf, rendered.nftables_nft, rendered.network_json, broken), network, tmp_path
        )
    assert not list((tmp_path / "upper").rglob("*.conf")), "a file was installed although validation failed"
    assert "systemctl" not in _read(tmp_path / "calls")


def test_setup_sh_refuses_a_router_wired_differently(tmp_path: Path) -> None:
    rendered = files("dev")
    network = json.loads(rendered.network_json)
    lan = ipaddress.IPv4Interface(network["lan"]["address"])
    network["lan"]["address"] = str(ipaddress.IPv4Interface(f"{lan.ip + 1}/{lan.network.prefixlen}"))
    with pytest.raises(AssertionError, match=f"eth1 does not have the address {lan}"):
        _run_setup_in_sandbox(rendered, network, tmp_path)
    assert not list((tmp_path / "upper").rglob("*.conf"))


_PACKAGE_STUBS = """
dpkg-query() { echo not-installed; }
apt-get() {
  echo "apt-get $*" >>"$CALLS"
  if [[ $1 == update ]] && (($(grep -c '^apt-get update' "$CALLS") <= UPDATE_FAILURES)); then
    echo "Temporary failure resolving 'deb.debian.org'" >&2
    return 100
  fi
}
# Time passes only in the script's pauses: each pause moves bash's clock on by its length.
sleep() { SECONDS=$((SECONDS + $1)); }
"""


def _ensure_packages(tmp_path: Path, update_failures: int) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    setup = files("dev").setup_sh
    start = setup.index("ensure_packages() {")
    function = setup[start : setup.index("\n}\n", start) + 3]
    calls = tmp_path / "calls"
    calls.touch()
    script = f"set -euo pipefail\n{_PACKAGE_STUBS}\n{function}\nensure_packages dnsmasq nftables\n"
    env = {"PATH": "/usr/bin:/bin", "CALLS": str(calls), "UPDATE_FAILURES": str(update_failures)}
    bash = require_tools("bash")["bash"]
    done = subprocess.run([bash, "-c", script], env=env, capture_output=True, text=True, check=False, timeout=30)
    return done, calls.read_text(encoding="utf-8").splitlines()


def test_mirrors_that_answer_late_are_waited_for(tmp_path: Path) -> None:
    done, calls = _ensure_packages(tmp_path, update_failures=3)
    assert done.returncode == 0, done.stderr
    assert calls[-1] == "apt-get install -y -q --no-install-recommends dnsmasq nftables"
    assert calls.count("apt-get update -q -o Acquire::Retries=3") == 4


def test_mirrors_that_never_answer_stop_the_setup_saying_what_it_waited_for(tmp_path: Path) -> None:
    done, calls = _ensure_packages(tmp_path, update_failures=10_000)
    assert done.returncode == 1
    assert "gave up after 300 s waiting for the Debian mirrors to answer apt-get update" in done.stderr
    assert len(calls) == 31  # one try every 10 s for 300 s, then no install
