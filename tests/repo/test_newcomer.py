"""A newcomer's first hour, scripted: a fresh clone, the README's quick-start commands exactly as
written, `uv sync` as `pulumi install` runs it, then the tests again.

Slow (it builds a second environment and runs the suite in the clone), so it is deselected by
default and `.ci/run` runs it: `pytest -m newcomer`. It clones the committed HEAD. The clone
sees neither CI nor the upstream schemas, as on a newcomer's machine: the schema tests must
skip there and say what to put where. Timings are printed (`-s`).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.repo.test_toolchain import TOOLS
from tests.support import REPO

pytestmark = pytest.mark.newcomer

QUICK_START = re.compile(r"^## Quick start\n.*?```sh\n(?P<commands>.*?)```", re.MULTILINE | re.DOTALL)
# The clone's own suite, without the namespace labs (covered by the main run) or this test.
INNER_PYTEST = "-m 'not network and not newcomer' -q -p no:cacheprovider"


def quick_start_commands() -> list[str]:
    match = QUICK_START.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md: no ```sh block under ## Quick start"
    return [line.split("#", 1)[0].strip() for line in match["commands"].splitlines() if line.split("#", 1)[0].strip()]


def _uv() -> str:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    found = shutil.which("uv") or str(cache / "homelab" / "uv-bootstrap" / "bin" / "uv")
    assert Path(found).is_file(), "no uv: `./dev` installs it on first use"
    return found


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    return result, time.monotonic() - started


def test_quick_start_is_the_two_dev_commands() -> None:
    assert quick_start_commands() == ["./dev plan", "./dev test"]


@pytest.mark.timeout(1800)  # a second environment, pyright and the suite: minutes on a busy 2-core machine
def test_a_fresh_clone_works_as_the_readme_says(tmp_path: Path) -> None:
    clone = tmp_path / "homelab"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True, capture_output=True, timeout=120)
    dropped = {"CI", "HOMELAB_SCHEMAS_DIR", "HOMELAB_SHARED_DIR", "VIRTUAL_ENV", "PYTHONPATH", "PYTEST_ADDOPTS"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    timings: dict[str, float] = {}
    plan, test = (shlex.split(command) for command in quick_start_commands())

    first, timings["plan, first run"] = _run(plan, clone, env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("homelab plan: stack dev: "), first.stdout
    assert "dev: installing the program and its development tools" in first.stderr, "first run says what it does"
    again, timings["plan, again"] = _run(plan, clone, env)
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")

    synced, timings["uv sync (pulumi install)"] = _run([_uv(), "sync"], clone, env)
    assert synced.returncode == 0, synced.stderr
    assert all((clone / ".venv" / "bin" / tool).is_file() for tool in TOOLS), "uv sync removed the tools"
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == "", f"uv sync changed the clone: {status.stdout}"

    tests, timings["test"] = _run(test, clone, {**env, "PYTEST_ADDOPTS": INNER_PYTEST})
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "FileNotFoundError" not in tests.stdout
    skip = re.search(r"SKIPPED .*upstream schemas not found in \S+: put \S+ there", tests.stdout)
    assert skip, "the schema tests skip and say what to put where"
    print("newcomer timings:", ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))
