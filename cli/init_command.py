"""`homelab init NAME`: start `Pulumi.NAME.yaml` from the example stack (README: Make it yours)."""

from __future__ import annotations

import argparse

from cli.exit_codes import ExitCode
from cli.reporting import refused
from cli.stacks import StackError, init_stack, project_dir


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    init = commands.add_parser(
        "init", help="start Pulumi.NAME.yaml from the example stack (never overwrites a stack file)"
    )
    init.add_argument("name", help="the new stack's name, e.g. mylab")
    init.set_defaults(run=run)


def run(args: argparse.Namespace) -> ExitCode:
    try:
        path = init_stack(args.name, project_dir())
    except StackError as error:
        return refused("init", str(error))
    name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    print(f"homelab init: wrote {path} from the example stack (its secrets are not copied). Next:")
    print(f"  1. change the values for your network and hosts in {path.name} (README: Make it yours)")
    print(f"  2. ./dev plan --stack {name}      check it offline")
    print(f"  3. pulumi stack init {name}       then the README's `pulumi config set --secret` commands")
    return ExitCode.OK
