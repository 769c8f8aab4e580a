"""The exit codes of every `homelab` command, in one place (listed in `homelab --help`)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """plan written, nothing changes (diff), every hop answers (check)."""
    CHANGES = 1
    """diff: something changes."""
    BROKEN = 1
    """check: a hop of the request path does not answer."""
    CANNOT_WRITE = 1
    """plan: the --out folder cannot be written."""
    INVALID = 2
    """invalid stack file, stack name or option: one line per problem on stderr, nothing written."""
    DESTROYS = 3
    """diff: a change has a `destroys` hazard (a wipe, an etcd member, a volume)."""


EPILOG = """exit codes (every command):
  0  success: plan written, nothing changes (diff), every hop answers (check)
  1  diff: something changes; check: a hop is broken; plan: cannot write --out
  2  invalid stack file, stack name or option (one line per problem, nothing written)
  3  diff: a change destroys something (a wipe, an etcd member, a volume)"""
