"""The client's systemd units for credential renewal and etcd backups (pure rendering).

Each service's settings are `Environment=` lines, so the scripts stay the same for every stack;
the tests run a script with exactly the environment its unit gives it (`unit_environment`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.models import BackupConfig

TALOSCONFIG_PATH = "/root/.talos/config"
KUBECONFIG_PATH = "/root/.kube/config"
RENEW_SCRIPT_PATH = "/usr/local/sbin/homelab-renew-credentials"
BACKUP_SCRIPT_PATH = "/usr/local/sbin/homelab-etcd-backup"
RENEW_UNIT = "homelab-renew-credentials"
BACKUP_UNIT = "homelab-etcd-backup"
UNIT_DIR = "/etc/systemd/system"
BACKUP_DIR = "/var/lib/homelab/etcd-backups"
BACKUP_STATUS_PATH = "/var/lib/homelab/etcd-backup.status"
OFFSITE_ENV_PATH = "/etc/homelab/etcd-backup-offsite.env"
OFFSITE_REMOTE = "offsite"

# Talos' own lifetime for an admin talosconfig (constants.TalosAPIDefaultCertificateValidityDuration) and
# for the kubeconfig it hands out: a year. Renewing 60 days before the end leaves a month of daily
# retries before `homelab check` starts warning (30 days).
CRT_TTL_HOURS = 8760
RENEW_BEFORE_DAYS = 60
SNAPSHOT_TIMEOUT_SECONDS = 300
# etcd's status reader can spin on a damaged snapshot instead of failing.
VERIFY_TIMEOUT_SECONDS = 60

_CALENDAR = {"hourly": "hourly", "daily": "daily", "weekly": "weekly"}
_ENVIRONMENT = re.compile(r'^Environment="(?P<name>[A-Z_]+)=(?P<value>[^"]*)"$', re.M)


@dataclass(frozen=True)
class LifecycleTarget:
    control_planes: list[str]
    nodes: list[str]
    """Every node's address, control planes first: the talosconfig's node list."""
    backup: BackupConfig


def on_calendar(schedule: str) -> str:
    """systemd's `OnCalendar=` for a `backup.schedule` (hourly, daily, weekly or HH:MM)."""
    return _CALENDAR.get(schedule) or f"*-*-* {schedule}:00"


def _environment(values: dict[str, str | int]) -> str:
    return "".join(f'Environment="{name}={value}"\n' for name, value in values.items())


def unit_environment(unit: str) -> dict[str, str]:
    """The `Environment=` settings of a rendered unit."""
    return {match["name"]: match["value"] for match in _ENVIRONMENT.finditer(unit)}


def renew_service(target: LifecycleTarget) -> str:
    environment = _environment(
        {
            "TALOSCONFIG": TALOSCONFIG_PATH,
            "KUBECONFIG": KUBECONFIG_PATH,
            "CONTROL_PLANES": " ".join(target.control_planes),
            "NODES": " ".join(target.nodes),
            "RENEW_BEFORE_DAYS": RENEW_BEFORE_DAYS,
            "CRT_TTL_HOURS": CRT_TTL_HOURS,
        }
    )
    return (
        "[Unit]\n"
        "Description=homelab: renew the talosconfig and kubeconfig before their certificates expire\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        "UMask=0077\n"
        f"{environment}"
        f"ExecStart={RENEW_SCRIPT_PATH}\n"
        "TimeoutStartSec=10min\n"
    )


def backup_service(target: LifecycleTarget) -> str:
    backup = target.backup
    values: dict[str, str | int] = {
        "TALOSCONFIG": TALOSCONFIG_PATH,
        "CONTROL_PLANES": " ".join(target.control_planes),
        "BACKUP_DIR": BACKUP_DIR,
        "KEEP": backup.keep,
        "MAX_AGE_DAYS": backup.max_age_days,
        "STATUS_FILE": BACKUP_STATUS_PATH,
        "SNAPSHOT_TIMEOUT": SNAPSHOT_TIMEOUT_SECONDS,
        "VERIFY_TIMEOUT": VERIFY_TIMEOUT_SECONDS,
    }
    offsite = ""
    if backup.target is not None and backup.target.path is not None:
        values["COPY_PATH"] = backup.target.path
    elif backup.target is not None and backup.target.s3 is not None:
        s3 = backup.target.s3
        values["COPY_REMOTE"] = f"{OFFSITE_REMOTE}:{s3.bucket}/{s3.prefix}".rstrip("/")
        # rclone's remote, credentials included, from a root-only file the program writes.
        offsite = f"EnvironmentFile={OFFSITE_ENV_PATH}\n"
    # One snapshot per control plane at most, each bounded by SNAPSHOT_TIMEOUT and its check by VERIFY_TIMEOUT,
    # plus the copy.
    timeout_minutes = ((SNAPSHOT_TIMEOUT_SECONDS + VERIFY_TIMEOUT_SECONDS) * len(target.control_planes)) // 60 + 30
    return (
        "[Unit]\n"
        "Description=homelab: etcd snapshot from a healthy control plane, kept and copied off host\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        "UMask=0077\n"
        f"{_environment(values)}"
        f"{offsite}"
        f"ExecStart={BACKUP_SCRIPT_PATH}\n"
        f"TimeoutStartSec={timeout_minutes}min\n"
        "Nice=10\n"
    )


def _timer(description: str, calendar: str) -> str:
    # Persistent: a run missed while the client was off happens at its next boot.
    return (
        "[Unit]\n"
        f"Description={description}\n\n"
        "[Timer]\n"
        f"OnCalendar={calendar}\n"
        "Persistent=true\n"
        "RandomizedDelaySec=15min\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )


def renew_timer() -> str:
    return _timer("homelab: renew the talosconfig and kubeconfig daily, when due", "daily")


def backup_timer(schedule: str) -> str:
    return _timer(f"homelab: etcd snapshot ({schedule})", on_calendar(schedule))


def offsite_environment(endpoint: str, region: str, access_key_id: str, secret_access_key: str) -> str:
    """rclone's S3 remote as environment variables (rclone's RCLONE_CONFIG_<REMOTE>_<OPTION>); secret."""
    prefix = f"RCLONE_CONFIG_{OFFSITE_REMOTE.upper()}"
    lines = {
        "TYPE": "s3",
        "PROVIDER": "Other",
        "ENDPOINT": endpoint,
        "ACCESS_KEY_ID": access_key_id,
        "SECRET_ACCESS_KEY": secret_access_key,
        **({"REGION": region} if region else {}),
    }
    return "".join(f"{prefix}_{key}={value}\n" for key, value in lines.items())
