"""The client's renewal and backup timers under mocks: pushed to the client after what they need, rendered into
the plan's `client/` files, accepted by `systemd-analyze verify`, and the S3 credentials secret throughout."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.talos.lifecycle_files import lifecycle_files
from components.talos.lifecycle_units import (
    BACKUP_SCRIPT_PATH,
    RENEW_SCRIPT_PATH,
    LifecycleTarget,
    backup_service,
    backup_timer,
    on_calendar,
)
from config.guests import CLIENT_KEY, Role, talos_nodes
from config.loading import load_stack_file
from config.models import BackupConfig
from plan.redaction import SECRET
from plan.run import run_plan
from plan.write import plan_files
from tests.network.tools import require_tools
from tests.support import COMMAND, CONTAINER, STACK_NAMES, edited_stack, named, stack_config, stack_plan

TIMERS = "talos-client-lifecycle-timers"  # of the dev stack, whose client is talos-client
CREDENTIALS = "talos-client-lifecycle-offsite-credentials"
ACCESS_KEY, SECRET_KEY = "AKIAHOMELABEXAMPLE", "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def s3_stack(directory: Path, **secure: bool) -> Path:
    def edit(config: dict[str, Any]) -> None:
        keys = {"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY}
        s3 = {"endpoint": "https://s3.example.net", "bucket": "lab-backups", "prefix": "homelab/"}
        s3 |= {k: ({"secure": "AAABAK+" + k} if secure.get(k) else v) for k, v in keys.items()}
        config["homelab:backup"] = {"keep": 7, "schedule": "03:30", "target": {"s3": s3}}

    return edited_stack(directory, edit)


def target_of(stack: str) -> LifecycleTarget:
    config = stack_config(stack)
    nodes = talos_nodes(config)
    control_planes = [str(n.address) for n in nodes if n.role is Role.CONTROL_PLANE]
    workers = [str(n.address) for n in nodes if n.role is Role.WORKER]
    return LifecycleTarget(control_planes, [*control_planes, *workers], config.backup)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_timers_are_installed_on_the_client_after_its_tools_configs_and_first_health_check(stack: str) -> None:
    plan = stack_plan(stack)
    client = CLIENT_KEY
    timers = named(plan, f"{client}-lifecycle-timers")
    assert timers.type == COMMAND
    by_urn = {r.urn: r for r in plan.registrations}
    assert by_urn[timers.parent].type == "homelab:talos:ClientLifecycle"
    assert by_urn[by_urn[timers.parent].parent].type == "homelab:talos:TalosClient"
    container = next(r for r in plan.by_type(CONTAINER) if r.name == f"{client}-container")
    waits_on = {by_urn[urn].name for urn in timers.dependencies}
    assert {f"{client}-{part}" for part in ("container", "tools", "talosconfig", "kubeconfig", "health")} <= waits_on
    # A new container gets them again, like everything else that configures it.
    assert timers.options.replace_with == [container.urn]
    # The same SSH connection as the client's other commands (host, key and, where pinned, host key).
    tools = named(plan, f"{client}-tools")
    assert timers.secret_digests["connection"] == tools.secret_digests["connection"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_plan_writes_the_client_files_as_pushed(stack: str) -> None:
    files = plan_files(stack_plan(stack))
    rendered = {f"client/{Path(f.path).name}": f.content for f in lifecycle_files(target_of(stack))}
    assert {k: v for k, v in files.items() if k.startswith("client/homelab-")} == rendered
    timers = named(stack_plan(stack), f"{CLIENT_KEY}-lifecycle-timers")
    assert files["client/lifecycle.sh"] == timers.inputs["stdin"]
    environment = files["client/homelab-etcd-backup.service"]
    control_planes = " ".join(target_of(stack).control_planes)
    assert f'Environment="CONTROL_PLANES={control_planes}"' in environment


def test_no_s3_target_means_no_credentials_on_the_client() -> None:
    plan = stack_plan("dev")
    assert not [r for r in plan.registrations if r.name == CREDENTIALS]
    assert "rm -f /etc/homelab/etcd-backup-offsite.env" in named(plan, TIMERS).inputs["stdin"]


@pytest.mark.parametrize("secure", [True, False], ids=["secure-in-the-stack", "plain-in-the-stack"])
def test_s3_credentials_are_secret_in_resources_json_whatever_the_stack_file_says(tmp_path: Path, secure: bool) -> None:
    config = load_stack_file(s3_stack(tmp_path, accessKeyId=secure, secretAccessKey=secure))
    plan = run_plan(config, "dev")
    credentials = named(plan, CREDENTIALS)
    assert credentials.inputs["stdin"] == SECRET
    assert "stdin" in credentials.secret_inputs
    assert credentials.inputs["logging"] == "none"
    assert credentials.options.replace_with == named(plan, TIMERS).options.replace_with
    assert named(plan, TIMERS).urn in credentials.dependencies
    files = plan_files(plan)
    for name, text in files.items():
        assert SECRET_KEY not in text and ACCESS_KEY not in text, name
    service = files["client/homelab-etcd-backup.service"]
    assert 'Environment="COPY_REMOTE=offsite:lab-backups/homelab"' in service
    assert "EnvironmentFile=/etc/homelab/etcd-backup-offsite.env" in service
    assert "OnCalendar=*-*-* 03:30:00" in files["client/homelab-etcd-backup.timer"]
    assert "rclone" in files["client/lifecycle.sh"]


def test_resources_json_holds_no_clear_credential(tmp_path: Path) -> None:
    plan = run_plan(load_stack_file(s3_stack(tmp_path)), "dev")
    text = plan_files(plan)["resources.json"]
    assert SECRET_KEY not in text and ACCESS_KEY not in text
    entry = next(r for r in json.loads(text) if r["name"] == CREDENTIALS)
    assert entry["inputs"]["stdin"] == SECRET


@pytest.mark.parametrize(
    ("schedule", "calendar"), [("hourly", "hourly"), ("daily", "daily"), ("07:05", "*-*-* 07:05:00")]
)
def test_schedules_become_calendar_specifications(schedule: str, calendar: str) -> None:
    assert on_calendar(schedule) == calendar
    assert f"OnCalendar={calendar}\n" in backup_timer(schedule)


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = require_tools("systemd-analyze")["systemd-analyze"]
    files = lifecycle_files(target_of("ha"))
    for file in files:
        content = file.content
        # The scripts live in the temp dir: verify checks that ExecStart is an executable.
        for script in (RENEW_SCRIPT_PATH, BACKUP_SCRIPT_PATH):
            content = content.replace(f"ExecStart={script}", f"ExecStart={tmp_path / Path(script).name}")
        path = tmp_path / Path(file.path).name
        path.write_text(content, encoding="utf-8")
        path.chmod(int(file.mode, 8))
    units = sorted(str(p) for p in tmp_path.iterdir() if p.suffix in (".service", ".timer"))
    assert len(units) == 4
    done = subprocess.run([analyze, "verify", *units], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert not re.search(r"homelab-[\w-]+\.(service|timer)", done.stderr), done.stderr


def test_a_bad_timer_would_be_caught(tmp_path: Path) -> None:
    """The verify above has teeth: an impossible calendar is refused."""
    analyze = require_tools("systemd-analyze")["systemd-analyze"]
    (tmp_path / "x.timer").write_text(backup_timer("daily").replace("daily", "*-*-* 25:00:00"), encoding="utf-8")
    service = backup_service(LifecycleTarget(["192.168.1.201"], ["192.168.1.201"], BackupConfig()))
    (tmp_path / "x.service").write_text(service.replace(f"ExecStart={BACKUP_SCRIPT_PATH}", "ExecStart=/bin/true"))
    done = subprocess.run(
        [analyze, "verify", str(tmp_path / "x.timer")], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode != 0


@pytest.mark.parametrize("stack", ["dev", "s3"])
def test_the_install_script_passes_shellcheck(tmp_path: Path, stack: str) -> None:
    shellcheck = require_tools("shellcheck")["shellcheck"]
    plan = stack_plan("dev") if stack == "dev" else run_plan(load_stack_file(s3_stack(tmp_path)), "dev")
    script = tmp_path / "lifecycle.sh"
    script.write_text(plan_files(plan)["client/lifecycle.sh"], encoding="utf-8")
    done = subprocess.run([shellcheck, str(script)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout
