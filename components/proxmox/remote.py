"""SSH access to the containers this program configures."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
from pulumi_command import remote

# A fresh container needs a few seconds before sshd answers; keep dialling.
DIAL_ERROR_LIMIT = 30

# Installs a script from stdin and runs it: nothing of its content on a command line.
RUN_STDIN_SCRIPT = "install -m 0700 /dev/stdin {path} && {path}"


def ssh_connection(
    host: pulumi.Input[str], private_key: pulumi.Input[str], *, host_key: pulumi.Input[str]
) -> remote.ConnectionArgs:
    """A connection that talks only to the container holding `host_key` (an authorized_keys line).

    pulumi-command accepts any host key unless `host_key` is set; with it, it pins that key and offers
    only its algorithm (provider/pkg/provider/remote/connection.go, `SSHConfig`, v1.2.1).
    """
    return remote.ConnectionArgs(
        host=host,
        user="root",
        private_key=private_key,
        host_key=host_key,
        dial_error_limit=DIAL_ERROR_LIMIT,
        per_dial_timeout=10,
    )


def first_contact_connection(host: pulumi.Input[str], private_key: pulumi.Input[str]) -> remote.ConnectionArgs:
    """The one unpinned connection per container: the command that installs the container's host key."""
    return remote.ConnectionArgs(
        host=host,
        user="root",
        private_key=private_key,
        dial_error_limit=DIAL_ERROR_LIMIT,
        per_dial_timeout=10,
    )


@dataclass(frozen=True)
class SshTarget:
    """How to reach one container once its host key is installed."""

    host: str
    private_key: pulumi.Input[str]
    host_key: pulumi.Input[str]
    installed: pulumi.Resource
    """The command that installed the host key: every pinned command waits for it."""

    def connection(self) -> remote.ConnectionArgs:
        return ssh_connection(self.host, self.private_key, host_key=self.host_key)


@dataclass(frozen=True)
class RemoteHost:
    """A container reachable over SSH, and the resource after which its tools are in place."""

    connection: remote.ConnectionArgs
    ready: pulumi.Resource
