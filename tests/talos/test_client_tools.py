"""The client tools script, run with bash against fake talosctl, kubectl, curl and install: it downloads
exactly the tools whose installed version is not the wanted one (the client follows a version bump)."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from components.talos.client_tools import KUBECTL_URL, TALOSCTL_URL, ToolPins, client_tools_script
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
        "curl": 'echo "curl $*" >>"$CALLS"; printf "not really talosctl\\n" >"$3"',
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
