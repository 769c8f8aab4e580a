"""The program: the components chained by their outputs (DESIGN §3).

`build` is what `pulumi up` runs (via __main__.py) and what `homelab plan`
runs under mocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import outputs
from components.kubernetes.metallb import MetalLB, MetalLBArgs
from components.kubernetes.site import ExampleSite, ExampleSiteArgs
from components.kubernetes.traefik import Traefik, TraefikArgs
from components.proxmox.containers import ContainerTemplates
from components.proxmox.guest_firewall import talos_shared_addresses
from components.proxmox.lab_bridge import LabNetwork, LabNetworkArgs
from components.proxmox.management_key import ManagementKey
from components.router.router import Router, RouterArgs
from components.talos.client import TalosClient, TalosClientArgs
from components.talos.cluster import ClusterNode, TalosCluster, TalosClusterArgs
from components.talos.image import TalosImage, TalosImageArgs
from components.talos.node import TalosNode, TalosNodeArgs
from config.guests import client_guest, hosts_in_use, router_host, talos_nodes
from config.models import LabConfig


@dataclass(frozen=True)
class Lab:
    config: LabConfig
    router: Router
    nodes: list[TalosNode]
    client: TalosClient
    cluster: TalosCluster
    management_key: ManagementKey
    site: ExampleSite


def build(config: LabConfig) -> Lab:
    proxmox = config.proxmox
    client_spec = client_guest(config)
    node_specs = talos_nodes(config)

    network = LabNetwork(
        "lab-network",
        LabNetworkArgs(
            bridge=config.network.bridge,
            hosts=hosts_in_use(config),
            ports=dict(config.network.bridge_ports),
            host_addresses={host: str(iface) for host, iface in config.network.host_addresses.items()},
        ),
    )
    key = ManagementKey("management-key")
    public_keys = key.public_key.apply(lambda own: [own, *config.ssh_public_keys])
    templates = ContainerTemplates(
        "container-template",
        sorted({router_host(config), client_spec.proxmox_node}, key=proxmox.nodes.index),
        proxmox.iso_datastore,
    )
    router = Router(
        "router",
        RouterArgs(
            config=config,
            lan_bridge=network.bridge_names[router_host(config)],
            public_keys=public_keys,
            private_key=key.private_key,
            template_file_id=templates.file_ids[router_host(config)],
        ),
    )
    image = TalosImage(
        "talos-image",
        TalosImageArgs(
            talos_version=config.cluster.talos_version,
            hosts=sorted({g.proxmox_node for g in node_specs}, key=proxmox.nodes.index),
            datastore=proxmox.iso_datastore,
        ),
    )
    nodes = [
        TalosNode(
            guest.name,
            TalosNodeArgs(
                guest=guest,
                cluster_name=config.cluster.name,
                bridge=network.bridge_names[guest.proxmox_node],
                iso_file_id=image.iso_file_ids[guest.proxmox_node],
                datastore=proxmox.vm_datastore,
                shared_addresses=tuple(
                    talos_shared_addresses(guest.role, config.load_balancer.pool, config.cluster.vip)
                ),
            ),
        )
        for guest in node_specs
    ]
    cluster = TalosCluster(
        "cluster",
        TalosClusterArgs(
            config=config,
            nodes=[ClusterNode(guest=node_spec, vm=node.vm) for node_spec, node in zip(node_specs, nodes, strict=True)],
            installer_image=image.installer_image,
            router_ready=router.ready,
        ),
    )
    client = TalosClient(
        client_spec.name,
        TalosClientArgs(
            guest=client_spec,
            talos_version=config.cluster.talos_version,
            kubernetes_version=config.cluster.kubernetes_version,
            bridge=network.bridge_names[client_spec.proxmox_node],
            datastore=proxmox.vm_datastore,
            template_file_id=templates.file_ids[client_spec.proxmox_node],
            public_keys=public_keys,
            private_key=key.private_key,
            router_ready=router.ready,
            talosconfig=cluster.talosconfig,
            kubeconfig=cluster.kubeconfig,
        ),
    )

    # Everything in Kubernetes goes through this provider, so it waits for the cluster's health
    # gate and `pulumi destroy` removes it before the VMs.
    provider = k8s.Provider("kubernetes", kubeconfig=cluster.kubeconfig, enable_server_side_apply=True)
    metallb = MetalLB("metallb", MetalLBArgs(config=config, provider=provider))
    traefik = Traefik("traefik", TraefikArgs(config=config, provider=provider, load_balancer_ready=metallb.ready))
    site = ExampleSite(
        "example-site", ExampleSiteArgs(config=config, provider=provider, ingress_controller=traefik.release)
    )
    return Lab(config=config, router=router, nodes=nodes, client=client, cluster=cluster, management_key=key, site=site)


def stack_outputs(lab: Lab) -> dict[str, pulumi.Input[object]]:
    """The stack outputs (DESIGN §3); kubeconfig, talosconfig and the key stay secret."""
    config = lab.config
    return {
        "url": outputs.site_url(config),
        "hostsLine": outputs.hosts_line(config),
        "routesLinux": outputs.laptop_routes_linux(config),
        "routesMacos": outputs.laptop_routes_macos(config),
        "nodeAddresses": outputs.node_addresses(config),
        "clientAddress": lab.client.address,
        "routerWanAddress": lab.router.wan_address,
        "routerLanAddress": lab.router.lan_address,
        "clusterEndpoint": lab.cluster.endpoint,
        "kubeconfig": lab.cluster.kubeconfig,
        "talosconfig": lab.cluster.talosconfig,
        "managementPrivateKey": lab.management_key.private_key,
    }
