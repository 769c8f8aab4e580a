"""`homelab schema`: the JSON schema of a stack file, for editors (the yaml-language-server line)."""

from __future__ import annotations

import argparse
import sys

from cli.exit_codes import ExitCode


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    schema = commands.add_parser("schema", help="print the JSON schema of a stack file (for editors)")
    schema.set_defaults(run=run)


def run(args: argparse.Namespace) -> ExitCode:
    from config.schema import schema_text

    sys.stdout.write(schema_text())
    return ExitCode.OK
