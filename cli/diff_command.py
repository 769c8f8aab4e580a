"""`homelab diff OLD NEW`: what a change of the stack would do to the running lab, offline (DESIGN §6).

OLD and NEW are stack names (`dev` reads `Pulumi.dev.yaml`) or stack files. Both are planned under
mocks as the same stack, so their URNs match: OLD's name, or NEW's when only NEW is a
`Pulumi.<stack>.yaml`. Exit 0 when nothing changes, 1 when something does, 3 when a change
destroys something, 2 on invalid config.
"""

from __future__ import annotations

import argparse
import sys

from cli.exit_codes import ExitCode
from cli.reporting import invalid_config, refused
from cli.stacks import StackError, stack_argument


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    diff = commands.add_parser("diff", help="show what `pulumi up` would change from OLD to NEW, offline")
    diff.add_argument("old", metavar="OLD", help="the running lab: a stack name (dev) or a stack file")
    diff.add_argument("new", metavar="NEW", help="the changed stack: a stack name or a stack file")
    diff.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")
    diff.set_defaults(run=run)


def run(args: argparse.Namespace) -> ExitCode:
    from config.loading import ConfigError, load_stack_file

    try:
        (old_name, old_file), (new_name, new_file) = stack_argument(args.old), stack_argument(args.new)
    except StackError as error:
        return refused("diff", str(error))
    configs = []
    for path in (old_file, new_file):
        try:
            configs.append(load_stack_file(path))
        except ConfigError as error:
            return invalid_config("diff", path, error)

    from diff.compare import Refused, plan_change
    from diff.report import diff_json, diff_text

    stack = old_name if old_file.name.startswith("Pulumi.") or not new_file.name.startswith("Pulumi.") else new_name
    try:
        result = plan_change(configs[0], configs[1], stack)
    except Refused as refusal:
        print(f"homelab diff: {new_file} cannot be applied to the running lab {old_file}:", file=sys.stderr)
        for problem in refusal.problems:
            print(f"  {problem}", file=sys.stderr)
        return ExitCode.INVALID
    if args.format == "json":
        sys.stdout.write(diff_json(result))
    else:
        sys.stdout.write(diff_text(args.old, args.new, result))
    return result.exit_code()
