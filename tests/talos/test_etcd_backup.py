"""The client's etcd backup script, run with bash and its unit's environment against a real etcd.

A stand-in `talosctl` (first on PATH) answers `talosctl etcd snapshot` with `etcdctl snapshot save`
against the test's etcd, or, per control plane, answers late, refuses, or writes a truncated file.
What the script keeps is restored into a second etcd and read back.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from check.credentials import status_line
from check.expiry import Level
from components.talos.backup_script import backup_script
from components.talos.lifecycle_units import LifecycleTarget, backup_service, offsite_environment, unit_environment
from config.models import BackupConfig, BackupTarget, S3Target
from tests.network.tools import require_tools
from tests.talos.real_etcd import Etcd, free_port, restore, running_etcd

CPS = ["192.168.1.201", "192.168.1.211", "192.168.1.221"]
KEYS = {f"/registry/configmaps/default/cm-{i:03d}": f"value-{i}-" + "x" * 200 for i in range(200)}
START = int(datetime.datetime(2026, 3, 1, 2, 0, tzinfo=datetime.UTC).timestamp())
DAY = 86400
NOW_AFTER = datetime.datetime.fromtimestamp(START + 7200, datetime.UTC)

STANDIN_TALOSCTL = r"""#!/usr/bin/env bash
# Stand-in talosctl: `talosctl --talosconfig F --nodes N etcd snapshot PATH`, behaving per node as
# BEHAVIOUR says (node=ok|late|refuse|truncated|damaged, space-separated; default ok).
set -euo pipefail
node="" path=""
while (($#)); do
  case $1 in
    --nodes) node=$2; shift 2 ;;
    --talosconfig) [[ -r $2 ]] || { echo "no talosconfig $2" >&2; exit 1; }; shift 2 ;;
    etcd) [[ $2 == snapshot ]]; path=$3; shift 3 ;;
    *) echo "unexpected argument $1" >&2; exit 2 ;;
  esac
done
echo "$node" >>"$CALLS"
behaviour=ok
for entry in ${BEHAVIOUR:-}; do [[ ${entry%%=*} == "$node" ]] && behaviour=${entry#*=}; done
case $behaviour in
  ok) ETCDCTL_API=3 etcdctl --endpoints="$ETCD" snapshot save "$path" >/dev/null ;;
  late) exec sleep 60 ;;
  refuse) echo "rpc error: code = Unavailable desc = connection refused" >&2; exit 1 ;;
  truncated)
    ETCDCTL_API=3 etcdctl --endpoints="$ETCD" snapshot save "$path.full" >/dev/null
    head -c "$(($(stat -c %s "$path.full") / 2))" "$path.full" >"$path"
    rm -f "$path.full" ;;
  damaged) head -c 5000 /dev/urandom >"$path" ;;
esac
"""

# Stand-in rclone for an S3 target: the remote `offsite:bucket/prefix` is a folder under RCLONE_ROOT.
STANDIN_RCLONE = r"""#!/usr/bin/env bash
set -euo pipefail
if [[ -z ${RCLONE_CONFIG_OFFSITE_SECRET_ACCESS_KEY:-} || ${RCLONE_CONFIG_OFFSITE_TYPE:-} != s3 ]]; then
  echo "no credentials" >&2
  exit 1
fi
local_path() { echo "$RCLONE_ROOT/${1#offsite:}"; }
case $1 in
  copyto) mkdir -p "$(dirname "$(local_path "$3")")"; cp "$2" "$(local_path "$3")" ;;
  lsf) ls -1 "$(local_path "$3")" ;;
  deletefile) rm "$(local_path "$2")" ;;
  *) exit 2 ;;
esac
"""


@dataclass
class Client:
    """A client's backup setup in a temp dir: the unit's environment with its paths moved there."""

    root: Path
    etcd: Etcd
    environment: dict[str, str]

    @property
    def backups(self) -> Path:
        return Path(self.environment["BACKUP_DIR"])

    def kept(self, folder: Path | None = None) -> list[str]:
        return sorted(p.name for p in (folder or self.backups).iterdir() if not p.name.startswith("."))

    def status(self) -> dict[str, object]:
        return json.loads(Path(self.environment["STATUS_FILE"]).read_text(encoding="utf-8"))

    def calls(self) -> list[str]:
        return (self.root / "calls").read_text(encoding="utf-8").split()

    def run(self, now: int, **extra: str) -> subprocess.CompletedProcess[str]:
        (self.root / "calls").write_text("", encoding="utf-8")
        env = {**self.environment, "HOMELAB_NOW": str(now), **extra}
        return subprocess.run(
            ["bash", "-c", backup_script()], env=env, capture_output=True, text=True, timeout=120, check=False
        )


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Etcd]:
    folder = tmp_path_factory.mktemp("etcd")
    with running_etcd(folder / "data") as server:
        for key, value in KEYS.items():
            server.ctl("put", key, value)
        yield server


def client(tmp_path: Path, etcd: Etcd, backup: BackupConfig, timeout: int = 300) -> Client:
    require_tools("bash", "etcdctl", "timeout", "find")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("talosctl", STANDIN_TALOSCTL), ("rclone", STANDIN_RCLONE)):
        (bin_dir / name).write_text(text, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    unit = backup_service(LifecycleTarget(control_planes=CPS, nodes=CPS, backup=backup))
    environment = unit_environment(unit)
    talosconfig = tmp_path / "talosconfig"
    talosconfig.write_text("context: homelab\n", encoding="utf-8")
    # The unit's settings as they are, only the paths moved into the temp dir.
    moved = {
        "TALOSCONFIG": str(talosconfig),
        "BACKUP_DIR": str(tmp_path / "backups"),
        "STATUS_FILE": str(tmp_path / "etcd-backup.status"),
        "SNAPSHOT_TIMEOUT": str(timeout),
        "VERIFY_TIMEOUT": str(timeout),
    }
    if "COPY_PATH" in environment:
        moved["COPY_PATH"] = str(tmp_path / environment["COPY_PATH"].lstrip("/"))
    assert set(moved) <= set(environment) | {"COPY_PATH"}
    environment |= moved
    environment |= {
        "PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin",
        "CALLS": str(tmp_path / "calls"),
        "ETCD": etcd.endpoint,
        "RCLONE_ROOT": str(tmp_path / "s3"),
    }
    return Client(tmp_path, etcd, environment)


def stamp(now: int) -> str:
    return f"etcd-{datetime.datetime.fromtimestamp(now, datetime.UTC):%Y%m%dT%H%M%SZ}.db"


def test_the_kept_snapshot_restores_into_a_second_etcd_with_every_key(tmp_path: Path, etcd: Etcd) -> None:
    setup = client(tmp_path, etcd, BackupConfig())
    started = time.monotonic()
    done = setup.run(START)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert setup.kept() == [stamp(START)]
    snapshot = setup.backups / stamp(START)
    assert snapshot.stat().st_mode & 0o077 == 0  # root only: a snapshot holds every Secret
    status = setup.status()
    assert status["file"] == stamp(START) and status["epoch"] == START and status["node"] == CPS[0]
    assert status["bytes"] == snapshot.stat().st_size
    assert f"took {stamp(START)} from {CPS[0]}" in done.stdout
    # What `homelab check` reads from the client makes sense of this very file.
    line = status_line("last etcd backup", Path(setup.environment["STATUS_FILE"]).read_text(), "daily", NOW_AFTER)
    assert line.level is Level.OK and f"{stamp(START)}, {snapshot.stat().st_size} bytes, 2.0 hours old" in line.text
    print(f"snapshot of {len(KEYS)} keys: {snapshot.stat().st_size} bytes, backup run {elapsed:.2f}s")

    peer = free_port()
    restore(snapshot, tmp_path / "restored", name="restored", peer=peer)
    with running_etcd(tmp_path / "restored", name="restored", peer=peer) as second:
        assert second.keys("/registry/") == KEYS


@pytest.mark.parametrize(
    ("behaviour", "taken_from", "said"),
    [
        (f"{CPS[0]}=late", CPS[1], f"{CPS[0]}: no snapshot within 2s"),
        (f"{CPS[0]}=refuse", CPS[1], "connection refused"),
        (f"{CPS[0]}=truncated", CPS[1], f"{CPS[0]}: the snapshot is not a valid etcd database"),
        (f"{CPS[0]}=late {CPS[1]}=truncated", CPS[2], f"{CPS[1]}: the snapshot is not a valid etcd database"),
        # Random bytes can make etcd's status reader spin instead of fail: the check is bounded too.
        (f"{CPS[0]}=damaged", CPS[1], f"{CPS[0]}: the snapshot is not a valid etcd database"),
    ],
)
def test_a_control_plane_that_answers_late_refuses_or_truncates_is_passed_over(
    tmp_path: Path, etcd: Etcd, behaviour: str, taken_from: str, said: str
) -> None:
    setup = client(tmp_path, etcd, BackupConfig(), timeout=2)
    done = setup.run(START, BEHAVIOUR=behaviour)
    assert done.returncode == 0, done.stdout + done.stderr
    assert said in done.stdout
    assert setup.calls() == CPS[: CPS.index(taken_from) + 1]
    assert setup.status()["node"] == taken_from
    assert setup.kept() == [stamp(START)]
    assert not [p for p in setup.backups.iterdir() if p.name.startswith(".")]  # no partial file left


def test_no_valid_snapshot_fails_the_unit_and_keeps_the_last_good_status(tmp_path: Path, etcd: Etcd) -> None:
    setup = client(tmp_path, etcd, BackupConfig(), timeout=2)
    assert setup.run(START).returncode == 0
    before = setup.status()
    done = setup.run(START + DAY, BEHAVIOUR=f"{CPS[0]}=refuse {CPS[1]}=truncated {CPS[2]}=late")
    assert done.returncode == 1
    assert "FAILED: none of the control planes" in done.stdout
    assert setup.status() == before
    assert setup.kept() == [stamp(START)]
    assert sorted(p.name for p in setup.backups.iterdir()) == [stamp(START)]


def expected_kept(day: int, keep: int, max_age_days: int) -> list[str]:
    """The rule: the newest `keep`, none older than `max_age_days`, the newest always."""
    days = list(range(day, -1, -1))[:keep]
    days = [d for d in days if day - d <= max_age_days] or [day]
    return sorted(stamp(START + d * DAY) for d in days)


@pytest.mark.parametrize(("keep", "max_age_days", "kept_at_the_end"), [(14, 30, 14), (40, 7, 8), (3, 30, 3)])
def test_retention_across_a_month_of_daily_runs(
    tmp_path: Path, etcd: Etcd, keep: int, max_age_days: int, kept_at_the_end: int
) -> None:
    setup = client(
        tmp_path, etcd, BackupConfig(keep=keep, max_age_days=max_age_days, target=BackupTarget(path="/mnt/nas"))
    )
    copies = Path(setup.environment["COPY_PATH"])
    copies.mkdir(parents=True)  # the user's share, mounted there
    for day in range(31):
        done = setup.run(START + day * DAY)
        assert done.returncode == 0, done.stdout + done.stderr
        assert setup.kept() == expected_kept(day, keep, max_age_days), f"day {day}"
        assert setup.kept(copies) == setup.kept(), f"day {day}: the copy has the same retention"
        assert setup.status()["copy"] == "ok"
    assert len(setup.kept()) == kept_at_the_end


def test_after_a_long_pause_only_the_new_snapshot_is_left(tmp_path: Path, etcd: Etcd) -> None:
    """The client was off for 100 days: everything older than maxAgeDays goes, the new snapshot stays."""
    setup = client(tmp_path, etcd, BackupConfig(keep=14, max_age_days=30))
    for day in range(5):
        assert setup.run(START + day * DAY).returncode == 0
    assert setup.run(START + 105 * DAY).returncode == 0
    assert setup.kept() == [stamp(START + 105 * DAY)]


def test_a_failed_copy_fails_the_unit_but_keeps_the_snapshot(tmp_path: Path, etcd: Etcd) -> None:
    setup = client(tmp_path, etcd, BackupConfig(target=BackupTarget(path="/mnt/nas")))
    share = Path(setup.environment["COPY_PATH"])
    done = setup.run(START)  # the share is not there (not mounted): nothing is created in its place
    assert done.returncode == 1
    assert "is not a directory (not mounted?)" in done.stdout
    assert "was not copied off host" in done.stdout
    assert not share.exists()
    assert setup.kept() == [stamp(START)]
    assert setup.status()["copy"] == "failed"


def test_an_s3_target_gets_each_snapshot_with_the_same_retention(tmp_path: Path, etcd: Etcd) -> None:
    s3 = S3Target(
        endpoint="http://nas:9000", bucket="lab-backups", prefix="homelab/", access_key_id="AK", secret_access_key="SK"
    )
    setup = client(tmp_path, etcd, BackupConfig(keep=2, target=BackupTarget(s3=s3)))
    assert setup.environment["COPY_REMOTE"] == "offsite:lab-backups/homelab"
    credentials = dict(
        line.split("=", 1) for line in offsite_environment(s3.endpoint, s3.region, "AK", "SK").splitlines()
    )
    for day in range(4):
        done = setup.run(START + day * DAY, **credentials)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SK" not in done.stdout + done.stderr
    assert setup.kept(tmp_path / "s3" / "lab-backups" / "homelab") == setup.kept() == expected_kept(3, 2, 30)
    done = setup.run(START + 4 * DAY)  # no credentials: the copy fails, visibly
    assert done.returncode == 1 and setup.status()["copy"] == "failed"


def test_the_script_passes_shellcheck(tmp_path: Path) -> None:
    shellcheck = require_tools("shellcheck")["shellcheck"]
    path = tmp_path / "homelab-etcd-backup"
    path.write_text(backup_script(), encoding="utf-8")
    done = subprocess.run([shellcheck, str(path)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout
