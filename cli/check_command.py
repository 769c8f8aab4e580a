"""`homelab check [--stack NAME | --config-file PATH]`: is the live lab working, hop by hop (DESIGN §6).

Exit 0 when every hop answers, 1 at the first broken hop (named, with the fix),
2 on invalid config or options. Needs no credentials.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.exit_codes import ExitCode
from cli.reporting import invalid_config, refused
from cli.stacks import StackError, add_stack_options, stack_source


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:  # pyright: ignore[reportPrivateUsage]
    check = commands.add_parser("check", help="check the live lab from this machine, hop by hop (no credentials)")
    add_stack_options(check)
    check.add_argument("--hosts-file", type=Path, default=Path("/etc/hosts"), help="default: /etc/hosts")
    check.add_argument(
        "--ca-file", type=Path, help="the lab CA (`pulumi stack output caCertificate`): also check the site over HTTPS"
    )
    check.add_argument("--timeout", type=float, default=2.0, help="seconds per probe (default: 2)")
    check.add_argument("--talosconfig", type=Path, help="also report days to expiry of its certificates")
    check.add_argument("--kubeconfig", type=Path, help="also report days to expiry of its certificates")
    check.add_argument(
        "--credentials-only", action="store_true", help="with --talosconfig/--kubeconfig: skip the request path"
    )
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> ExitCode:
    from config.loading import ConfigError, load_stack_file

    try:
        stack, path = stack_source(args.stack, args.config_file)
    except StackError as error:
        return refused("check", str(error))
    try:
        config = load_stack_file(path)
    except ConfigError as error:
        return invalid_config("check", path, error)
    problem = _option_problem(args)
    if problem:
        return refused("check", problem)

    credentials = 0
    if args.talosconfig is not None or args.kubeconfig is not None:
        from check.credentials import report

        credentials = report(config, args.talosconfig, args.kubeconfig, args.timeout)
        if args.credentials_only:
            return ExitCode(credentials)
    # The probes (sockets, TLS, HTTP) load only for `check`, not with every `homelab` command.
    from check.hops import CheckOptions, hops, walk

    path_hops = hops(config, CheckOptions(args.hosts_file, args.timeout, args.ca_file))
    print(f"homelab check: stack {stack}, {len(path_hops)} hops from this machine to http://{config.site.host}/")
    for index, (hop, outcome) in enumerate(walk(path_hops), start=1):
        print(f"  {'ok' if outcome.ok else 'FAIL':<4}  {hop.name}: {outcome.detail}", flush=True)
        if not outcome.ok:
            print(f"        fix: {outcome.fix}")
            later = len(path_hops) - index
            print(f"homelab check: broken at {hop.name}" + (f" ({later} later hops not checked)" if later else ""))
            return ExitCode.BROKEN
    print("homelab check: every hop answers")
    return ExitCode(credentials)


def _option_problem(args: argparse.Namespace) -> str:
    for option, path in (
        ("--ca-file", args.ca_file),
        ("--talosconfig", args.talosconfig),
        ("--kubeconfig", args.kubeconfig),
    ):
        if path is not None and not path.is_file():
            return f"{option} {path} does not exist"
    if not 0 < args.timeout <= 60:
        return f"--timeout {args.timeout:g} must be between 0 and 60 seconds"
    if args.credentials_only and args.talosconfig is None and args.kubeconfig is None:
        return "--credentials-only needs --talosconfig or --kubeconfig"
    return ""
