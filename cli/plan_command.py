"""`homelab plan`: the offline preview (DESIGN §6).

Runs the real program under Pulumi's mocks: no CLI, no credentials, no network. Prints the
summary; with `--out DIR` writes the plan's files there.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.exit_codes import ExitCode
from cli.reporting import invalid_config, refused
from cli.stacks import StackError, add_stack_options, stack_source


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    plan = commands.add_parser("plan", help="show what `pulumi up` would create, offline (under mocks)")
    add_stack_options(plan)
    plan.add_argument("--out", type=Path, help="write the plan's files into this directory")
    plan.add_argument("--format", choices=["text", "json"], default="text", help="summary format (default: text)")
    plan.set_defaults(run=run)


def run(args: argparse.Namespace) -> ExitCode:
    from config.loading import ConfigError, apply_stack_file, load_lab_config
    from plan.out_dir import OutDirError, Written, earlier_plan, record, remove_earlier

    try:
        stack, path = stack_source(args.stack, args.config_file)
    except StackError as error:
        return refused("plan", str(error))
    try:
        earlier = earlier_plan(args.out) if args.out is not None else []
    except OutDirError as error:
        print(f"homelab plan: cannot write the plan to {args.out}: {error}", file=sys.stderr)
        return ExitCode.CANNOT_WRITE
    try:
        # The same path `pulumi up` takes: the stack file as Pulumi's runtime config, then the models.
        apply_stack_file(path)
        config = load_lab_config()
    except ConfigError as error:
        return invalid_config("plan", path, error)

    from plan.run import run_plan
    from plan.summary import summary_json, summary_text
    from plan.write import write_plan

    result = run_plan(config, stack)
    written: Written | None = None
    if args.out is not None:
        try:
            remove_earlier(args.out, earlier)
            written = record(args.out, write_plan(result, args.out), earlier)
        except OSError as error:
            print(f"homelab plan: cannot write the plan to {args.out}: {error.strerror}", file=sys.stderr)
            return ExitCode.CANNOT_WRITE
    sys.stdout.write(summary_json(result) if args.format == "json" else summary_text(result))
    if written is not None:
        sys.stdout.flush()
        print(f"homelab plan: {written.describe()}", file=sys.stderr)
    return ExitCode.OK
