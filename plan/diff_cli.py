"""`homelab diff OLD NEW`: what a change of the stack would do to the running lab, offline (DESIGN §6).

OLD and NEW are stack names (`dev` reads `Pulumi.dev.yaml`) or stack files. Both are planned under
mocks as the same stack, so their URNs match: OLD's name, or NEW's when only NEW is a
`Pulumi.<stack>.yaml`. Exit 0 when nothing changes, 1 when something does, 2 on invalid config.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from plan.stacks import StackError, project_dir, stack_or_file

EXIT_NO_CHANGES = 0
EXIT_CHANGES = 1
EXIT_INVALID_CONFIG = 2


def add_diff_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    diff = commands.add_parser("diff", help="show what `pulumi up` would change from OLD to NEW, offline")
    diff.add_argument("old", metavar="OLD", help="the running lab: a stack name (dev) or a stack file")
    diff.add_argument("new", metavar="NEW", help="the changed stack: a stack name or a stack file")
    diff.add_argument("--format", choices=["text", "json"], default="text", help="output format (default: text)")


def stack_name(path: Path) -> str:
    return path.stem.removeprefix("Pulumi.")


def run_diff(args: argparse.Namespace) -> int:
    from config.loading import ConfigError, load_stack_file

    try:
        old_file, new_file = (stack_or_file(argument, project_dir()) for argument in (args.old, args.new))
    except StackError as error:
        print(f"homelab diff: {error}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    configs = []
    for path in (old_file, new_file):
        try:
            configs.append(load_stack_file(path))
        except ConfigError as error:
            print(f"homelab diff: invalid config in {path}:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            return EXIT_INVALID_CONFIG

    from plan.diff import diff_plans
    from plan.diff_report import diff_json, diff_text
    from plan.run import run_plan

    stack = stack_name(
        old_file if old_file.name.startswith("Pulumi.") or not new_file.name.startswith("Pulumi.") else new_file
    )
    from plan.rollout_steps import planned_rollout_steps

    old_plan, new_plan = run_plan(configs[0], stack), run_plan(configs[1], stack)
    changes = diff_plans(old_plan, new_plan)
    if args.format == "json":
        sys.stdout.write(diff_json(changes))
    else:
        sys.stdout.write(diff_text(args.old, args.new, changes, planned_rollout_steps(old_plan, new_plan)))
    return EXIT_CHANGES if changes else EXIT_NO_CHANGES
