"""Two runs of `homelab plan` on the same stack write the same bytes (DESIGN §6).

Each run is its own process with its own hash seed, as two runs on a user's machine are: a set
iterated into a file, an `id()` or a timestamp would show here, which two renderings in one
process cannot show. Two stacks that between them use every renderer: one host without workers,
and two hosts with three control planes and workers (the example stack is planned twice in
tests/plan/test_plan_cli.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO, STACKS, file_tree

HOMELAB = Path(sys.executable).parent / "homelab"
DETERMINISM_STACKS = {
    "minimal": STACKS["minimal"],
    "ha": STACKS["ha"],
}


@pytest.mark.parametrize("stack", sorted(DETERMINISM_STACKS))
def test_two_processes_write_the_same_plan(stack: str, tmp_path: Path) -> None:
    runs = [
        subprocess.Popen(
            [HOMELAB, "plan", "--config-file", DETERMINISM_STACKS[stack], "--out", tmp_path / seed, "--format", "json"],
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "2")
    ]
    (first_out, first_err), (second_out, second_err) = (run.communicate(timeout=120) for run in runs)
    assert [run.returncode for run in runs] == [0, 0], first_err + second_err

    assert first_out == second_out
    first, second = file_tree(tmp_path / "1"), file_tree(tmp_path / "2")
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
