"""The script that installs the client's renewal and backup timers (pure rendering).

Every file is written with a quoted heredoc, so the plan reads them back from the pushed script
(`plan.registered.client_files`) exactly as the client receives them.
"""

from __future__ import annotations

from dataclasses import dataclass

from components.talos.backup_script import backup_script
from components.talos.lifecycle_units import (
    BACKUP_DIR,
    BACKUP_SCRIPT_PATH,
    BACKUP_UNIT,
    OFFSITE_ENV_PATH,
    RENEW_SCRIPT_PATH,
    RENEW_UNIT,
    UNIT_DIR,
    LifecycleTarget,
    backup_service,
    backup_timer,
    renew_service,
    renew_timer,
)
from components.talos.renew_script import renew_script

_DELIMITER = "HOMELAB_FILE_END"


@dataclass(frozen=True)
class ClientFile:
    path: str
    mode: str
    content: str


def lifecycle_files(target: LifecycleTarget) -> list[ClientFile]:
    return [
        ClientFile(RENEW_SCRIPT_PATH, "0755", renew_script()),
        ClientFile(BACKUP_SCRIPT_PATH, "0755", backup_script()),
        ClientFile(f"{UNIT_DIR}/{RENEW_UNIT}.service", "0644", renew_service(target)),
        ClientFile(f"{UNIT_DIR}/{RENEW_UNIT}.timer", "0644", renew_timer()),
        ClientFile(f"{UNIT_DIR}/{BACKUP_UNIT}.service", "0644", backup_service(target)),
        ClientFile(f"{UNIT_DIR}/{BACKUP_UNIT}.timer", "0644", backup_timer(target.backup.schedule)),
    ]


def lifecycle_install_script(target: LifecycleTarget) -> str:
    s3 = target.backup.target is not None and target.backup.target.s3 is not None
    packages = "etcd-client openssl" + (" rclone" if s3 else "")
    lines = [
        "#!/usr/bin/env bash",
        "# Installs the credential renewal and etcd backup timers (and what they run) on the Talos client.",
        "set -euo pipefail",
        "export DEBIAN_FRONTEND=noninteractive",
        f"if ! dpkg-query -W {packages} >/dev/null 2>&1; then",
        "  apt-get update -q </dev/null",
        f"  apt-get install -y -q --no-install-recommends {packages} </dev/null",
        "fi",
        f"install -d -m 0700 /var/lib/homelab {BACKUP_DIR} /etc/homelab",
    ]
    for file in lifecycle_files(target):
        lines += [f"cat >{file.path} <<'{_DELIMITER}'", file.content.rstrip("\n"), _DELIMITER]
        lines.append(f"chmod {file.mode} {file.path}")
    if not s3:  # credentials of an S3 target the stack no longer names
        lines.append(f"rm -f {OFFSITE_ENV_PATH}")
    lines += [
        "systemctl daemon-reload",
        f"systemctl enable --now {RENEW_UNIT}.timer {BACKUP_UNIT}.timer",
    ]
    return "\n".join(lines) + "\n"
