"""Session hooks for the whole suite; shared helpers live in tests/support.py."""

from __future__ import annotations

import os

import pytest


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI a skipped test proves nothing: turn any skip into a failed run."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or not os.environ.get("CI"):
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped and exitstatus == 0:
        reporter.write_line(f"CI is set and {len(skipped)} test(s) skipped: failing the run", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
