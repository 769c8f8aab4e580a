"""The script that installs talosctl and kubectl on the Talos client (pure rendering)."""

from __future__ import annotations

from dataclasses import dataclass

from components.shell_wait import Wait, wait_until


@dataclass(frozen=True)
class ToolPins:
    """SHA-256 of talosctl-linux-amd64 and kubectl for the configured versions, from the stack.

    Unset, a binary is checked against the checksum its project publishes next to it: the same
    origin, so it catches a broken download but not a compromised release host (docs/security.md).
    """

    talosctl: str | None = None
    kubectl: str | None = None


# The binaries and, for a tool without a pin, the checksum files their projects publish beside them.
TALOSCTL_URL = "https://github.com/siderolabs/talos/releases/download/{version}/talosctl-linux-amd64"
TALOSCTL_SUMS_URL = "https://github.com/siderolabs/talos/releases/download/{version}/sha256sum.txt"
KUBECTL_URL = "https://dl.k8s.io/release/v{version}/bin/linux/amd64/kubectl"
KUBECTL_SUM_URL = "https://dl.k8s.io/release/v{version}/bin/linux/amd64/kubectl.sha256"

# Every download retried (a fresh container's network may not be up yet) and bounded.
CURL = "curl -fsSL --retry 5 --retry-delay 5 --retry-all-errors --connect-timeout 20 --max-time 600"

# `grep -w`: v1.13.1 must not pass for an installed v1.13.10.
_SCRIPT = """\
#!/usr/bin/env bash
# Installs talosctl {talos_version} and kubectl {kubernetes_version}, each verified by its SHA-256.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

if ! command -v curl >/dev/null; then
  apt-get update -q -o Acquire::Retries=5 </dev/null
  apt-get install -y -q -o Acquire::Retries=5 curl ca-certificates </dev/null
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

if ! talosctl version --client --short 2>/dev/null | grep -qwF '{talos_version}'; then
  {curl} -o "$workdir/talosctl-linux-amd64" '{talosctl_url}'
{talosctl_check}  install -m 0755 "$workdir/talosctl-linux-amd64" /usr/local/bin/talosctl
fi

if ! kubectl version --client 2>/dev/null | grep -qwF 'v{kubernetes_version}'; then
  {curl} -o "$workdir/kubectl" '{kubectl_url}'
{kubectl_check}  install -m 0755 "$workdir/kubectl" /usr/local/bin/kubectl
fi

install -d -m 0700 /root/.talos /root/.kube
"""


_PINNED_CHECK = """  echo '{sha256}  '"$workdir/{file}" | sha256sum --check --strict
"""
_TALOSCTL_PUBLISHED_CHECK = """  {curl} -o "$workdir/sha256sum.txt" '{url}'
  (cd "$workdir" && grep ' talosctl-linux-amd64$' sha256sum.txt | sha256sum --check --strict)
"""
_KUBECTL_PUBLISHED_CHECK = """  echo "$({curl} '{url}')  $workdir/kubectl" | sha256sum --check --strict
"""


def client_tools_script(talos_version: str, kubernetes_version: str, pins: ToolPins | None = None) -> str:
    pins = pins or ToolPins()
    talosctl_check = (
        _PINNED_CHECK.format(sha256=pins.talosctl, file="talosctl-linux-amd64")
        if pins.talosctl
        else _TALOSCTL_PUBLISHED_CHECK.format(curl=CURL, url=TALOSCTL_SUMS_URL.format(version=talos_version))
    )
    kubectl_check = (
        _PINNED_CHECK.format(sha256=pins.kubectl, file="kubectl")
        if pins.kubectl
        else _KUBECTL_PUBLISHED_CHECK.format(curl=CURL, url=KUBECTL_SUM_URL.format(version=kubernetes_version))
    )
    return _SCRIPT.format(
        curl=CURL,
        talos_version=talos_version,
        kubernetes_version=kubernetes_version,
        talosctl_url=TALOSCTL_URL.format(version=talos_version),
        kubectl_url=KUBECTL_URL.format(version=kubernetes_version),
        talosctl_check=talosctl_check,
        kubectl_check=kubectl_check,
    )


# Writes stdin to a file readable by root only; the secret travels on stdin, never on a command line.
WRITE_SECRET_FILE = "umask 077 && mkdir -p {directory} && cat > {path}.tmp && mv {path}.tmp {path}"

# The gate of the first bootstrap: Talos' own health checks (etcd, kubelets, API server, nodes ready).
# One `talosctl health` gives up when the node's Talos API refuses the first call (the node still
# installs and reboots), so it is retried until the gate's own deadline.
HEALTH_CHECK = "talosctl --nodes {node} health --wait-timeout {attempt}s --control-plane-nodes {control_planes}"
HEALTH_ATTEMPT_SECONDS = 300
# talosctl's own --wait-timeout ends a try; this only catches a talosctl that hangs past it.
HEALTH_GRACE_SECONDS = 60


def health_check_command(
    control_planes: list[str],
    workers: list[str],
    timeout_seconds: int,
    *,
    attempt_seconds: int = HEALTH_ATTEMPT_SECONDS,
    grace_seconds: int = HEALTH_GRACE_SECONDS,
    pause_seconds: int = 10,
) -> str:
    attempt = min(attempt_seconds, timeout_seconds)
    probe = HEALTH_CHECK.format(node=control_planes[0], attempt=attempt, control_planes=",".join(control_planes))
    if workers:
        probe = f"{probe} --worker-nodes {','.join(workers)}"
    return wait_until(
        Wait(
            what=f"the cluster to pass talosctl health from {control_planes[0]} (etcd, API server, every node ready)",
            probe=probe,
            timeout_seconds=timeout_seconds,
            attempt_seconds=attempt + grace_seconds,
            pause_seconds=pause_seconds,
        )
    )
