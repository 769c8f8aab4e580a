"""TalosCluster: secrets, per-node config and apply, bootstrap, kubeconfig, talosconfig."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumiverse_talos as talos

from components.proxmox.guest_options import renamed_from
from components.talos.invoke_args import (
    client_configuration_args,
    machine_secrets_args,
)
from config.guests import Guest, Role


@dataclass(frozen=True)
class ClusterNode:
    guest: Guest
    vm: pulumi.Resource
    config_patches: pulumi.Input[list[str]]
    guarded_by: Sequence[pulumi.Resource] = ()
    """The NIC's guest firewall (and the datacenter firewall that puts it in force): the machine config,
    with the cluster's secrets, goes out only once no other guest can answer at the node's address."""
    """The node's machine config patches (rendered by `components.talos.patches`)."""


@dataclass(frozen=True)
class TalosClusterArgs:
    cluster_name: str
    config_contract: str
    """The Talos minor the configs and secrets are generated for (`cluster.machineConfigContract`), not the
    installed version: raising it with an upgrade broke etcd encryption (siderolabs/talos#13885)."""
    kubernetes_version: pulumi.Input[str]
    """The version the machine configs carry: the running one while the rollout upgrades Kubernetes
    (components.lab), so it reaches the nodes in `talosctl upgrade-k8s`'s order, not all at once."""
    endpoint: str
    """The Kubernetes API URL (VIP or first control plane)."""
    endpoint_address: str
    nodes: list[ClusterNode]
    network_ready: pulumi.Resource
    """Nodes get their addresses by DHCP: applies wait for the router."""


class TalosCluster(pulumi.ComponentResource):
    endpoint: str
    ready: list[pulumi.Resource]
    """The bootstrap and every node's config apply."""
    applies: dict[str, talos.machine.ConfigurationApply]
    """By node address."""
    kubeconfig: pulumi.Output[str]
    talosconfig: pulumi.Output[str]

    def __init__(self, name: str, args: TalosClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:talos:TalosCluster", name, None, opts)
        self.endpoint = args.endpoint
        control_planes = [str(n.guest.address) for n in args.nodes if n.guest.role is Role.CONTROL_PLANE]
        first_control_plane = control_planes[0]

        secrets = talos.machine.Secrets(
            f"{name}-secrets",
            talos_version=args.config_contract,
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["machineSecrets", "clientConfiguration"],
                # The secrets bundle is made once, for the Talos version the cluster was created with; an
                # update would gain nothing and makes every secret unknown in the preview (the provider
                # recomputes them), so every config, the kubeconfig and the Kubernetes provider look replaced.
                ignore_changes=["talosVersion"],
            ),
        )
        machine_secrets = secrets.machine_secrets.apply(machine_secrets_args)
        # Resources take the Secrets output as it is; the SDK types it as another class than the input.
        client_configuration: Any = secrets.client_configuration

        applies: dict[str, talos.machine.ConfigurationApply] = {}  # by node address
        for node in args.nodes:
            guest = node.guest
            machine_configuration = talos.machine.get_configuration_output(
                cluster_name=args.cluster_name,
                cluster_endpoint=self.endpoint,
                machine_type=guest.role.value,
                machine_secrets=machine_secrets,
                talos_version=args.config_contract,
                kubernetes_version=args.kubernetes_version,
                config_patches=node.config_patches,
                docs=False,
                examples=False,
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).machine_configuration
            apply_name = f"{name}-{guest.key}-apply"
            applies[str(guest.address)] = talos.machine.ConfigurationApply(
                apply_name,
                client_configuration=client_configuration,
                machine_configuration_input=machine_configuration,
                node=str(guest.address),
                endpoint=str(guest.address),
                # No reset on destroy: the provider's delete is then a no-op that only forgets the apply
                # (pkg/talos/talos_machine_configuration_apply_resource.go, Delete: only `on_destroy.reset`
                # calls the node, and fails the destroy when the node does not answer in time). The node's
                # leave command has already taken it out of etcd and Kubernetes, and the VM is deleted right
                # after with every disk attached to it (bpg/terraform-provider-proxmox#1763).
                timeouts=talos.machine.TimeoutArgs(create="15m", update="15m", delete="2m"),
                # A replaced VM boots a blank disk into maintenance mode: apply its config again.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[node.vm, *node.guarded_by, args.network_ready],
                    replace_with=[node.vm],
                    aliases=renamed_from(f"{name}-{guest.former_key}-apply", apply_name),
                ),
            )

        bootstrap = talos.machine.Bootstrap(
            f"{name}-bootstrap",
            client_configuration=client_configuration,
            node=first_control_plane,
            endpoint=first_control_plane,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[applies[first_control_plane]]),
        )

        self.applies = applies
        self.ready = [bootstrap, *applies.values()]
        kubeconfig = talos.cluster.Kubeconfig(
            f"{name}-kubeconfig",
            client_configuration=client_configuration,
            node=first_control_plane,
            endpoint=args.endpoint_address,
            # The provider retries until the bootstrapped node hands it out; the cluster's health is
            # checked once, by the client (TalosClient.healthy), before anything Kubernetes.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[bootstrap], additional_secret_outputs=["kubeconfigRaw"]
            ),
        )
        self.kubeconfig = pulumi.Output.secret(kubeconfig.kubeconfig_raw)
        self.talosconfig = pulumi.Output.secret(
            talos.client.get_configuration_output(
                cluster_name=args.cluster_name,
                client_configuration=client_configuration.apply(client_configuration_args),
                # Never the VIP: it depends on etcd and the API server, so the Talos API would be lost exactly
                # when it is needed (https://docs.siderolabs.com/talos/v1.13/networking/vip).
                endpoints=control_planes,
                nodes=[str(n.guest.address) for n in args.nodes],
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).talos_config
        )
        self.register_outputs(
            {"endpoint": self.endpoint, "kubeconfig": self.kubeconfig, "talosconfig": self.talosconfig}
        )
