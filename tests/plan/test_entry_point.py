"""`__main__.py`, the program `pulumi up` runs: on invalid config it stops the SDK's documented way."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from config.loading import apply_stack_file
from tests.support import INVALID, REPO

GUEST_OUTSIDE_LAN = INVALID / "addresses-and-networks" / "guest-outside-lan.yaml"


def _expected_messages(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return [line.removeprefix("# expect: ") for line in text.splitlines() if line.startswith("# expect: ")]


def test_invalid_config_raises_run_error_with_the_plan_messages() -> None:
    apply_stack_file(GUEST_OUTSIDE_LAN)
    with pytest.raises(pulumi.RunError) as raised:
        runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
    message = str(raised.value)
    expected = _expected_messages(GUEST_OUTSIDE_LAN)
    assert expected
    for line in expected:
        assert line in message.splitlines()
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_homelab_plan_prints_the_same_messages() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "plan", "--config-file", str(GUEST_OUTSIDE_LAN)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 2
    printed = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert printed == _expected_messages(GUEST_OUTSIDE_LAN)
