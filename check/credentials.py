"""`homelab check --talosconfig F --kubeconfig F`: days to expiry of the user's credentials, and the age of
the lab's last etcd backup.

The certificates are read from the files, offline. The backup's age is read from the status file the
client's backup timer writes, over SSH as root with the user's own SSH setup (a key in
`homelab:sshPublicKeys`, the host key in known_hosts; `BatchMode`, so it never prompts): first a TCP
probe of port 22 within the probe timeout, so without a network it fails fast, then `ssh` with
`ConnectTimeout` and a bound on the whole command.
"""

from __future__ import annotations

import datetime
import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from check.expiry import (
    ExpiryError,
    Level,
    assess,
    kubeconfig_certificates,
    talosconfig_certificates,
)
from check.probes import Answer, tcp
from components.talos.lifecycle_units import BACKUP_STATUS_PATH
from config.models import LabConfig

# A backup older than two runs of its schedule means the timer is not doing its job.
_STALE_HOURS = {"hourly": 2, "daily": 48, "weekly": 14 * 24}


@dataclass(frozen=True)
class Line:
    level: Level
    text: str
    fix: str = ""


def certificate_lines(talosconfig: Path | None, kubeconfig: Path | None, now: datetime.datetime) -> list[Line]:
    lines: list[Line] = []
    for path, read, fix in (
        (talosconfig, talosconfig_certificates, _TALOS_FIX),
        (kubeconfig, kubeconfig_certificates, _KUBE_FIX),
    ):
        if path is None:
            continue
        try:
            certificates = read(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, ExpiryError) as error:
            lines.append(Line(Level.FAIL, f"{path}: {getattr(error, 'strerror', None) or error}", fix))
            continue
        for certificate in certificates:
            expiry = assess(certificate, now)
            is_ca = certificate.what.endswith(" CA")
            lines.append(
                Line(
                    expiry.level,
                    f"{path}: {expiry.line}",
                    "" if expiry.level is Level.OK else _CA_FIX if is_ca else fix,
                )
            )
    return lines


_TALOS_FIX = (
    "the client container renews its own copy daily (journalctl -u homelab-renew-credentials); take a fresh one "
    "from it (scp root@CLIENT:/root/.talos/config talosconfig), or run `pulumi up` (the provider renews the "
    "stack's within a month of expiry) and `pulumi stack output talosconfig --show-secrets > talosconfig`"
)
_KUBE_FIX = (
    "talosctl --talosconfig talosconfig --nodes CONTROL_PLANE kubeconfig --force --merge=false kubeconfig "
    "(a new one, valid a year), or scp root@CLIENT:/root/.kube/config kubeconfig"
)
_CA_FIX = "a cluster CA lasts ten years; rotate it with talosctl rotate-ca (docs/lifecycle.md)"


def backup_line(config: LabConfig, timeout: float, now: datetime.datetime) -> Line:
    address = str(config.client.address)
    where = f"last etcd backup (root@{address}:{BACKUP_STATUS_PATH})"
    if shutil.which("ssh") is None:
        return Line(Level.WARN, f"{where}: not read, no ssh on this machine")
    answer = tcp(address, 22, timeout)
    if answer is not Answer.OPEN:
        return Line(Level.WARN, f"{where}: not read, {address}:22 {answer.value} within {timeout:g} s")
    command = [
        "ssh",
        "-o",
        "BatchMode=yes",
        "-o",
        f"ConnectTimeout={max(1, math.ceil(timeout))}",
        f"root@{address}",
        f"cat {BACKUP_STATUS_PATH}",
    ]
    bound = 3 * timeout + 5
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=bound, check=False)
    except subprocess.TimeoutExpired:
        return Line(Level.WARN, f"{where}: not read, ssh did not finish within {bound:g} s")
    if result.returncode != 0:
        said = " ".join(result.stderr.split())[:160]
        if "No such file" in said:
            return Line(Level.WARN, f"{where}: no backup recorded yet", "systemctl status homelab-etcd-backup (client)")
        return Line(Level.WARN, f"{where}: not read ({said})", "is your key in homelab:sshPublicKeys?")
    return status_line(where, result.stdout, config.backup.schedule, now)


def status_line(where: str, text: str, schedule: str, now: datetime.datetime) -> Line:
    try:
        status = json.loads(text)
        taken = datetime.datetime.fromtimestamp(int(status["epoch"]), datetime.UTC)
        name, size, copy = str(status["file"]), int(status["bytes"]), str(status.get("copy", "none"))
    except (ValueError, KeyError, TypeError):
        return Line(Level.WARN, f"{where}: unreadable status")
    hours = (now - taken).total_seconds() / 3600
    age = f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"
    text = f"{where}: {name}, {size} bytes, {age} old (copy off host: {copy})"
    if hours > _STALE_HOURS.get(schedule, 48):
        return Line(Level.WARN, text, "journalctl -u homelab-etcd-backup on the client says why")
    if copy == "failed":
        return Line(Level.WARN, text, "the copy off host failed: journalctl -u homelab-etcd-backup on the client")
    return Line(Level.OK, text)


def report(
    config: LabConfig,
    talosconfig: Path | None,
    kubeconfig: Path | None,
    timeout: float,
    now: datetime.datetime | None = None,
) -> int:
    """Print the credentials' lines; 1 when a certificate ends within FAIL_DAYS (or a file is unreadable)."""
    now = now or datetime.datetime.now(datetime.UTC)
    lines = [*certificate_lines(talosconfig, kubeconfig, now), backup_line(config, timeout, now)]
    print("homelab check: credentials and backups")
    for line in lines:
        print(f"  {line.level.value:<4}  {line.text}", flush=True)
        if line.fix:
            print(f"        fix: {line.fix.replace('CLIENT', str(config.client.address))}")
    return 1 if any(line.level is Level.FAIL for line in lines) else 0
