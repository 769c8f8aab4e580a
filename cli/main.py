"""`homelab`: the argparse tree of every command; each command's work is in its own module.

plan   the offline preview (DESIGN §6), under Pulumi's mocks
diff   what a change of the stack would do to the running lab
check  is the live lab answering, hop by hop
init   start a stack file from the example
schema the JSON schema of a stack file
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from cli import check_command, diff_command, init_command, plan_command, schema_command
from cli.exit_codes import EPILOG


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="homelab",
        description="homelab: a Talos lab on Proxmox VE",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = root.add_subparsers(dest="command", required=True)
    for module in (plan_command, diff_command, check_command, init_command, schema_command):
        module.add_parser(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    """`homelab` as a function (for tests and other callers): the exit code."""
    args = parser().parse_args(argv)
    return int(args.run(args))


def run() -> NoReturn:
    """The `homelab` command."""
    sys.exit(main())


if __name__ == "__main__":
    run()
