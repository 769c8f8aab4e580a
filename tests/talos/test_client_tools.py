"""The client tools script, run with bash against fake talosctl, kubectl, curl and install: it downloads
exactly the tools whose installed version is not the wanted one (the client follows a version bump)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from components.talos.client_tools import (
    CURL,
    KUBECTL_URL,
    TALOSCTL_URL,
    ToolPins,
    client_tools_script,
    health_check_command,
)
from tests.network.tools import require_tools

FAKES = {
    "talosctl": 'printf "Client:\\n\\tTalos %s\\n" "$INSTALLED_TALOSCTL"',
    "kubectl": 'printf "Client Version: %s\\nKustomize Version: v5.7.1\\n" "$INSTALLED_KUBECTL"',
    # Records the download and fails it, which stops the script there.
    "curl": 'echo "curl $*" >>"$CALLS"; exit 22',
    "install": 'echo "install $*" >>"$CALLS"',
}


def run_tools(tmp_path: Path, wanted: tuple[str, str], installed: tuple[str, str]) -> tuple[int, list[str]]:
    bash = require_tools("bash")["bash"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in FAKES.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "CALLS": str(calls),
        "INSTALLED_TALOSCTL": installed[0],
        "INSTALLED_KUBECTL": installed[1],
    }
    done = subprocess.run(
        [bash, "-c", client_tools_script(*wanted)], env=env, capture_output=True, text=True, check=False, timeout=30
    )
    return done.returncode, calls.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("wanted", "installed", "first_download"),
    [
        # A prefix of the installed version is another version.
        (("v1.13.1", "1.36.3"), ("v1.13.10", "v1.36.3"), TALOSCTL_URL.format(version="v1.13.1")),
        (("v1.13.10", "1.36.3"), ("v1.13.10", "v1.36.30"), KUBECTL_URL.format(version="1.36.3")),
        (("v1.13.10", "1.36.4"), ("v1.13.10", "v1.36.3"), KUBECTL_URL.format(version="1.36.4")),
    ],
)
def test_a_tool_not_on_the_wanted_version_is_downloaded(
    tmp_path: Path, wanted: tuple[str, str], installed: tuple[str, str], first_download: str
) -> None:
    status, calls = run_tools(tmp_path, wanted, installed)
    assert status != 0  # the fake download fails
    assert calls[0].startswith("curl ") and calls[0].endswith(first_download)


def test_tools_on_the_wanted_versions_are_kept(tmp_path: Path) -> None:
    status, calls = run_tools(tmp_path, ("v1.13.10", "1.36.3"), ("v1.13.10", "v1.36.3"))
    assert status == 0
    assert calls == ["install -d -m 0700 /root/.talos /root/.kube"]


HEALTHY_AFTER = """#!/bin/sh
# Refuses the first $REFUSALS calls (the node still installs), then passes; "hang" sleeps past any bound.
echo "talosctl $*" >>"$CALLS"
[ "$REFUSALS" = hang ] && exec sleep 60
if [ "$(wc -l <"$CALLS")" -le "$REFUSALS" ]; then
  echo "rpc error: code = Unavailable desc = connection refused" >&2
  exit 1
fi
echo "waiting for all k8s nodes to report ready: OK"
"""


def run_health(
    tmp_path: Path, refusals: str, timeout_seconds: int
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bash = require_tools("bash")["bash"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "talosctl").write_text(HEALTHY_AFTER, encoding="utf-8")
    (bin_dir / "talosctl").chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    # Seconds instead of minutes: talosctl's own wait 1 s, a hung try killed 1 s later, no pause.
    command = health_check_command(
        ["192.168.1.201"], ["192.168.1.202"], timeout_seconds, attempt_seconds=1, grace_seconds=1, pause_seconds=0
    )
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls), "REFUSALS": refusals}
    done = subprocess.run([bash, "-c", command], env=env, capture_output=True, text=True, check=False, timeout=60)
    return done, calls.read_text(encoding="utf-8").splitlines()


def test_the_health_gate_retries_a_node_that_answers_late(tmp_path: Path) -> None:
    done, calls = run_health(tmp_path, "2", timeout_seconds=30)
    assert done.returncode == 0, done.stderr
    assert len(calls) == 3
    assert calls[0] == (
        "talosctl --nodes 192.168.1.201 health --wait-timeout 1s"
        " --control-plane-nodes 192.168.1.201 --worker-nodes 192.168.1.202"
    )


@pytest.mark.parametrize("refusals", ["999999", "hang"])
def test_the_health_gate_gives_up_at_its_deadline_saying_what_it_waited_for(tmp_path: Path, refusals: str) -> None:
    done, _ = run_health(tmp_path, refusals, timeout_seconds=3)
    assert done.returncode == 1
    assert "gave up after " in done.stderr
    assert done.stderr.rstrip().endswith(
        "s waiting for the cluster to pass talosctl health from 192.168.1.201 (etcd, API server, every node ready)"
    )
    if refusals != "hang":
        assert "connection refused" in done.stderr  # talosctl's last error comes first


def test_every_download_is_retried_and_bounded() -> None:
    script = client_tools_script("v1.13.10", "1.36.3")
    downloads = [line for line in script.splitlines() if "curl -" in line]
    assert len(downloads) == 4
    assert all(CURL in line for line in downloads)
    assert "--max-time" in CURL and "--retry" in CURL


PAYLOAD = b"not really talosctl\n"
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()


def _run_pinned(tmp_path: Path, pins: ToolPins) -> tuple[int, list[str], str]:
    """Downloads 'succeed' (every file is PAYLOAD); talosctl is missing, kubectl is already there."""
    bash = require_tools("bash")["bash"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = {
        **FAKES,
        "talosctl": "exit 1",
        # Writes the file named after -o, wherever the retry and timeout options put it.
        "curl": 'echo "curl $*" >>"$CALLS"; while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done; '
        'printf "not really talosctl\\n" >"$out"',
    }
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls"
    calls.touch()
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "CALLS": str(calls), "INSTALLED_KUBECTL": "v1.36.3"}
    script = client_tools_script("v1.13.9", "1.36.3", pins)
    done = subprocess.run([bash, "-c", script], env=env, capture_output=True, text=True, check=False, timeout=30)
    return done.returncode, calls.read_text(encoding="utf-8").splitlines(), done.stderr


def test_a_pinned_talosctl_is_checked_against_the_pin_not_the_release_host(tmp_path: Path) -> None:
    status, calls, stderr = _run_pinned(tmp_path, ToolPins(talosctl=PAYLOAD_SHA256))
    assert status == 0, stderr
    assert [call.split()[-1] for call in calls if call.startswith("curl")] == [TALOSCTL_URL.format(version="v1.13.9")]
    assert any(call.startswith("install -m 0755") and call.endswith("/usr/local/bin/talosctl") for call in calls)


def test_a_binary_that_does_not_match_its_pin_is_not_installed(tmp_path: Path) -> None:
    status, calls, stderr = _run_pinned(tmp_path, ToolPins(talosctl="0" * 64))
    assert status != 0
    assert "did NOT match" in stderr
    assert not [call for call in calls if call.startswith("install -m 0755")]
