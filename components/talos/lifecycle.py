"""ClientLifecycle: the client's timers that renew its credentials and back etcd up."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import pulumi
from pulumi_command import remote

from components.proxmox.remote import RUN_STDIN_SCRIPT
from components.talos.client_tools import WRITE_SECRET_FILE
from components.talos.lifecycle_files import lifecycle_install_script
from components.talos.lifecycle_units import OFFSITE_ENV_PATH, LifecycleTarget, offsite_environment

INSTALL_SCRIPT_PATH = "/root/homelab-lifecycle.sh"


@dataclass(frozen=True)
class ClientLifecycleArgs:
    connection: remote.ConnectionArgs
    container: pulumi.Resource
    target: LifecycleTarget
    after: list[pulumi.Resource]
    """The client's tools and configs, and its first health check: no backup of a cluster not yet there."""


class ClientLifecycle(pulumi.ComponentResource):
    timers: remote.Command
    offsite_credentials: remote.Command | None

    def __init__(self, name: str, args: ClientLifecycleArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:talos:ClientLifecycle", name, None, opts)
        configures = pulumi.ResourceOptions(
            parent=self, depends_on=[args.container, *args.after], replace_with=[args.container]
        )
        # A changed unit or script changes stdin, which runs `create` again as an update.
        self.timers = remote.Command(
            f"{name}-timers",
            connection=args.connection,
            create=RUN_STDIN_SCRIPT.format(path=INSTALL_SCRIPT_PATH),
            stdin=lifecycle_install_script(args.target),
            opts=configures,
        )
        self.offsite_credentials = None
        backup_target = args.target.backup.target
        if backup_target is not None and backup_target.s3 is not None:
            s3 = backup_target.s3
            self.offsite_credentials = remote.Command(
                f"{name}-offsite-credentials",
                connection=args.connection,
                create=WRITE_SECRET_FILE.format(directory=posixpath.dirname(OFFSITE_ENV_PATH), path=OFFSITE_ENV_PATH),
                # Whatever the stack file says, the keys travel as secrets, on stdin, and are never logged.
                stdin=pulumi.Output.secret(
                    offsite_environment(s3.endpoint, s3.region, s3.access_key_id, s3.secret_access_key)
                ),
                logging=remote.Logging.NONE,
                opts=pulumi.ResourceOptions.merge(configures, pulumi.ResourceOptions(depends_on=[self.timers])),
            )
        self.register_outputs({})
