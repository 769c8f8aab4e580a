"""`homelab init NAME`: start `Pulumi.NAME.yaml` from the example stack (README: Make it yours)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from plan.stacks import StackError, init_stack, project_dir

EXIT_REFUSED = 2


def add_init_command(commands: Any) -> None:
    init = commands.add_parser(
        "init", help="start Pulumi.NAME.yaml from the example stack (never overwrites a stack file)"
    )
    init.add_argument("name", help="the new stack's name, e.g. mylab")


def init_command(args: argparse.Namespace) -> int:
    try:
        path = init_stack(args.name, project_dir())
    except StackError as error:
        print(f"homelab init: {error}", file=sys.stderr)
        return EXIT_REFUSED
    name = path.name.removeprefix("Pulumi.").removesuffix(".yaml")
    print(f"homelab init: wrote {path} from the example stack (its secrets are not copied). Next:")
    print(f"  1. change the values for your network and hosts in {path.name} (README: Make it yours)")
    print(f"  2. ./dev plan --stack {name}      check it offline")
    print(f"  3. pulumi stack init {name}       then the README's `pulumi config set --secret` commands")
    return 0
