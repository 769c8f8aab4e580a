"""Preconditions of the tests that run real tools: skip outside CI, fail in CI."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import NoReturn

import pytest


def skip_or_fail(reason: str) -> NoReturn:
    """Skip with `reason`; when `CI` is set the test must run, so fail instead."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: these tests must run there, not skip)")
    pytest.skip(reason)


def require_tools(*names: str) -> dict[str, str]:
    """The path of each program, or skip/fail naming the missing ones."""
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        skip_or_fail(f"missing program(s): {', '.join(missing)} (install them, e.g. apt-get install them)")
    return {name: path for name, path in found.items() if path is not None}


def require_root(why: str) -> None:
    """Root with network-namespace rights (a container may be root without them)."""
    if os.geteuid() != 0:
        skip_or_fail(f"needs root: {why}")
    require_tools("ip")
    probe = f"hl{os.getpid()}-probe"
    created = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True, check=False)
    if created.returncode != 0:
        skip_or_fail(f"needs the right to create network namespaces ({why}): {created.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True, check=False)
