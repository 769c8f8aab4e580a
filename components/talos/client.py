"""TalosClient: an LXC on the lab bridge with talosctl, kubectl and the cluster's configs."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve
from pulumi_command import remote

from components.proxmox.containers import ContainerSpec, debian_container
from components.proxmox.guest_firewall import GuestFirewall, GuestFirewallArgs, GuestKind
from components.proxmox.host_key import ContainerHostKey
from components.proxmox.host_key_files import install_access_command, render_access_drop_in
from components.proxmox.remote import RUN_STDIN_SCRIPT, RemoteHost, SshTarget
from components.talos.client_tools import WRITE_SECRET_FILE, ToolPins, client_tools_script, health_check_command
from components.talos.lifecycle import ClientLifecycle, ClientLifecycleArgs
from components.talos.lifecycle_units import KUBECONFIG_PATH, TALOSCONFIG_PATH, LifecycleTarget
from config.guests import Guest
from config.models import BackupConfig

HEALTH_TIMEOUT_SECONDS = 20 * 60


@dataclass(frozen=True)
class TalosClientArgs:
    guest: Guest
    talos_version: str
    kubernetes_version: str
    bridge: pulumi.Input[str]
    datastore: str
    template_file_id: pulumi.Input[str]
    public_keys: pulumi.Input[list[str]]
    private_key: pulumi.Input[str]
    router_ready: pulumi.Resource
    talosconfig: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    cluster_ready: list[pulumi.Resource]
    """The bootstrap and every node's config apply: the health gate waits for them."""
    control_planes: list[str]
    workers: list[str]
    backup: BackupConfig
    ssh_sources: list[str]
    """Who may reach the client's sshd: the admins' networks and the router (nothing else in the lab)."""
    tool_pins: ToolPins
    mtu: int | None = None
    """The lab MTU where it is not Ethernet's 1500."""


class TalosClient(pulumi.ComponentResource):
    """Depend on `healthy` for a cluster that passed its first health check; `kubectl` runs kubectl in the lab."""

    address: str
    host_key: pulumi.Output[str]
    ssh: SshTarget
    healthy: remote.Command
    kubectl: RemoteHost
    lifecycle: ClientLifecycle
    ready: list[pulumi.Resource]
    """talosctl and kubectl installed, talosconfig and kubeconfig in place."""

    def __init__(self, name: str, args: TalosClientArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:talos:TalosClient", name, None, opts)
        guest = args.guest
        self.address = str(guest.address)
        container = debian_container(
            f"{name}-container",
            ContainerSpec(
                host=guest.proxmox_node,
                vm_id=guest.vm_id,
                description="homelab Talos client: talosctl and kubectl for the cluster",
                tags=["homelab", "talos-client"],
                cores=guest.cores,
                memory_mib=guest.memory_mib,
                disk_gib=guest.disk_gib,
                datastore=args.datastore,
            ),
            template_file_id=args.template_file_id,
            network_interfaces=[
                proxmoxve.ContainerLegacyNetworkInterfaceArgs(
                    name="eth0", bridge=args.bridge, mac_address=guest.mac, firewall=True, mtu=args.mtu
                )
            ],
            initialization=proxmoxve.ContainerLegacyInitializationArgs(
                hostname=guest.name,
                ip_configs=[
                    proxmoxve.ContainerLegacyInitializationIpConfigArgs(
                        ipv4=proxmoxve.ContainerLegacyInitializationIpConfigIpv4Args(address="dhcp")
                    )
                ],
                user_account=proxmoxve.ContainerLegacyInitializationUserAccountArgs(keys=args.public_keys),
            ),
            # Debian's ifupdown asks for a lease once at boot and gives up: start only once the router serves DHCP.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.router_ready]),
        )
        GuestFirewall(
            f"{name}-firewall",
            GuestFirewallArgs(
                node_name=guest.proxmox_node,
                vm_id=guest.vm_id,
                kind=GuestKind.CONTAINER,
                nic_index=0,
                mac=guest.mac,
                addresses=[self.address],
                guest=container,
                ssh_from=tuple(args.ssh_sources),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        host_key = ContainerHostKey(
            f"{name}-host-key", self.address, args.private_key, container, pulumi.ResourceOptions(parent=self)
        )
        self.host_key = host_key.public_key
        self.ssh = host_key.target
        connection = self.ssh.connection()
        # Before any secret lands here: lab guests get no login (the guest firewall drops them first).
        access = remote.Command(
            f"{name}-sshd-access",
            connection=connection,
            create=install_access_command(render_access_drop_in(args.ssh_sources)),
            opts=self._configures(container, self.ssh.installed),
        )
        tools_script = client_tools_script(args.talos_version, args.kubernetes_version, args.tool_pins)
        # New versions change stdin, which runs `create` again as an update (`triggers` would replace it).
        tools = remote.Command(
            f"{name}-tools",
            connection=connection,
            create=RUN_STDIN_SCRIPT.format(path="/root/homelab-client-tools.sh"),
            stdin=tools_script,
            opts=self._configures(container, access),
        )
        files: dict[str, remote.Command] = {}
        for file_name, path, content in (
            ("talosconfig", TALOSCONFIG_PATH, args.talosconfig),
            ("kubeconfig", KUBECONFIG_PATH, args.kubeconfig),
        ):
            files[file_name] = remote.Command(
                f"{name}-{file_name}",
                connection=connection,
                create=WRITE_SECRET_FILE.format(directory=posixpath.dirname(path), path=path),
                # A changed config changes stdin, which re-runs `create` (no delete: the container holds it).
                stdin=pulumi.Output.secret(content),
                logging=remote.Logging.NONE,
                opts=self._configures(container, tools),
            )
        self.healthy = remote.Command(
            f"{name}-health",
            connection=connection,
            create=health_check_command(args.control_planes, args.workers, HEALTH_TIMEOUT_SECONDS),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[files["talosconfig"], *args.cluster_ready],
                # It gates the first bootstrap only (nothing Kubernetes before a healthy cluster). Once the
                # cluster runs, a changed node list (or key) must not run it again: with any node down, that
                # `up` (even the one meant to replace the node) would fail.
                ignore_changes=["create", "connection"],
            ),
        )
        self.lifecycle = ClientLifecycle(
            f"{name}-lifecycle",
            ClientLifecycleArgs(
                connection=connection,
                container=container,
                target=LifecycleTarget(
                    control_planes=args.control_planes,
                    nodes=[*args.control_planes, *args.workers],
                    backup=args.backup,
                ),
                after=[tools, *files.values(), self.healthy],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.kubectl = RemoteHost(connection=connection, ready=files["kubeconfig"])
        self.ready = [tools, *files.values()]
        self.register_outputs({"address": self.address, "hostKey": self.host_key})

    def _configures(self, container: pulumi.Resource, *after: pulumi.Resource) -> pulumi.ResourceOptions:
        """What configures the container runs again when the container is replaced: its own inputs
        (host, stdin) are the same for the new container."""
        return pulumi.ResourceOptions(parent=self, depends_on=[container, *after], replace_with=[container])
