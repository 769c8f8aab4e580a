"""How every command reports a bad stack file, stack name or option: one line per problem on stderr."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cli.exit_codes import ExitCode

if TYPE_CHECKING:
    from config.loading import ConfigError


def invalid_config(command: str, path: Path | str, error: ConfigError) -> ExitCode:
    print(f"homelab {command}: invalid config in {path}:", file=sys.stderr)
    for problem in error.problems:
        print(f"  {problem}", file=sys.stderr)
    return ExitCode.INVALID


def refused(command: str, message: str) -> ExitCode:
    """A stack name, option or file the command cannot use: one line, exit 2."""
    print(f"homelab {command}: {message}", file=sys.stderr)
    return ExitCode.INVALID
