"""SSH access to the containers this program configures."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

# A fresh container needs a few seconds before sshd answers; keep dialling.
DIAL_ERROR_LIMIT = 30

# Installs a script from stdin and runs it: nothing of its content on a command line.
RUN_STDIN_SCRIPT = "install -m 0700 /dev/stdin {path} && {path}"


def ssh_connection(host: pulumi.Input[str], private_key: pulumi.Input[str]) -> remote.ConnectionArgs:
    return remote.ConnectionArgs(
        host=host,
        user="root",
        private_key=private_key,
        dial_error_limit=DIAL_ERROR_LIMIT,
        per_dial_timeout=10,
    )


@dataclass(frozen=True)
class RemoteHost:
    """A container reachable over SSH, and the resource after which its tools are in place."""

    connection: remote.ConnectionArgs
    ready: pulumi.Resource
