"""The program: the components chained by their outputs (DESIGN §3).

`build` is what `pulumi up` runs (via __main__.py) and what `homelab plan`
runs under mocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import outputs
from components.kubernetes.lab_ca import LabCertificates, LabCertificatesArgs
from components.kubernetes.metallb import MetalLB, MetalLBArgs
from components.kubernetes.site import ExampleSite, ExampleSiteArgs
from components.kubernetes.traefik import Traefik, TraefikArgs
from components.proxmox.containers import ContainerSpec, ContainerTemplates, TemplateSpec
from components.proxmox.guest_firewall import talos_shared_addresses
from components.proxmox.lab_bridge import LabNetwork, LabNetworkArgs, SdnSpec
from components.proxmox.management_key import ManagementKey
from components.router.files import render_router_files
from components.router.router import Router, RouterArgs, RouterNic
from components.talos.client import TalosClient, TalosClientArgs
from components.talos.cluster import ClusterNode, TalosCluster, TalosClusterArgs
from components.talos.image import TalosImage, TalosImageArgs
from components.talos.node import TalosNode, TalosNodeArgs
from components.talos.patches import cluster_endpoint, node_patches
from components.talos.upgrade import ClusterUpgrade, ClusterUpgradeArgs
from config.fabric import explicit_mtu
from config.guests import (
    Role,
    client_guest,
    cluster_endpoint_address,
    hosts_in_use,
    router_host,
    router_lan_mac,
    router_wan_mac,
    talos_nodes,
)
from config.models import LabConfig


@dataclass(frozen=True)
class Lab:
    config: LabConfig
    router: Router
    nodes: list[TalosNode]
    client: TalosClient
    cluster: TalosCluster
    upgrade: ClusterUpgrade
    management_key: ManagementKey
    site: ExampleSite
    certificates: LabCertificates


def build(config: LabConfig) -> Lab:
    proxmox = config.proxmox
    client_spec = client_guest(config)
    node_specs = talos_nodes(config)

    mtu = explicit_mtu(config.network)
    network = LabNetwork("lab-network", lab_network_args(config))
    key = ManagementKey("management-key")
    public_keys = key.public_key.apply(lambda own: [own, *config.ssh_public_keys])
    templates = ContainerTemplates(
        "container-template",
        TemplateSpec(url=proxmox.container_template.url, sha512=proxmox.container_template.sha512),
        sorted({router_host(config), client_spec.proxmox_node}, key=proxmox.nodes.index),
        proxmox.iso_datastore,
    )
    router = Router(
        "router",
        _router_args(
            config,
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
                mtu=mtu,
            ),
        )
        for guest in node_specs
    ]
    cluster = TalosCluster(
        "cluster",
        TalosClusterArgs(
            cluster_name=config.cluster.name,
            config_contract=config.cluster.machine_config_contract,
            kubernetes_version=config.cluster.kubernetes_version,
            endpoint=cluster_endpoint(config),
            endpoint_address=str(cluster_endpoint_address(config)),
            nodes=[
                ClusterNode(
                    guest=spec,
                    vm=node.vm,
                    config_patches=image.installer_image.apply(lambda image, g=spec: node_patches(config, g, image)),
                )
                for spec, node in zip(node_specs, nodes, strict=True)
            ],
            network_ready=router,
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
            router_ready=router,
            talosconfig=cluster.talosconfig,
            kubeconfig=cluster.kubeconfig,
            cluster_ready=cluster.ready,
            control_planes=[str(g.address) for g in node_specs if g.role is Role.CONTROL_PLANE],
            workers=[str(g.address) for g in node_specs if g.role is Role.WORKER],
            mtu=mtu,
        ),
    )

    upgrade = ClusterUpgrade(
        "cluster-upgrade",
        ClusterUpgradeArgs(
            client_address=client.address,
            private_key=key.private_key,
            talos_version=config.cluster.talos_version,
            kubernetes_version=config.cluster.kubernetes_version,
            schematic_id=image.schematic_id,
            installer_image=image.installer_image,
            control_planes=[str(g.address) for g in config.cluster.control_planes],
            workers=[str(g.address) for g in config.cluster.workers],
            after=[*cluster.ready, *client.ready],
        ),
    )

    # Everything in Kubernetes goes through this provider, so it waits for the cluster's first health
    # check and `pulumi destroy` removes it before the VMs. An ordering only: the check's own outputs
    # would make the provider's config unknown, and so replace it, whenever the check changed.
    provider = k8s.Provider(
        "kubernetes",
        kubeconfig=cluster.kubeconfig,
        enable_server_side_apply=True,
        opts=pulumi.ResourceOptions(depends_on=[client.healthy]),
    )
    in_cluster = pulumi.ResourceOptions(providers=[provider])
    metallb = MetalLB(
        "metallb",
        MetalLBArgs(
            pool=str(config.load_balancer.pool),
            announce_from_control_planes=not config.cluster.workers,
            kubectl=client.kubectl,
        ),
        in_cluster,
    )
    certificates = LabCertificates("lab-ca", LabCertificatesArgs(lab_name=config.cluster.name, host=config.site.host))
    traefik = Traefik(
        "traefik",
        TraefikArgs(
            ingress_address=str(config.load_balancer.ingress_address),
            load_balancer=metallb,
            default_certificate=certificates.site,
        ),
        in_cluster,
    )
    site = ExampleSite(
        "example-site",
        ExampleSiteArgs(site=config.site, ingress_controller=traefik, certificate=certificates.site),
        in_cluster,
    )
    return Lab(
        config=config,
        router=router,
        nodes=nodes,
        client=client,
        cluster=cluster,
        upgrade=upgrade,
        management_key=key,
        site=site,
        certificates=certificates,
    )


def lab_network_args(config: LabConfig) -> LabNetworkArgs:
    """The lab segment: a bridge per host, or the SDN zone and VNet over the hosts in use."""
    network = config.network
    hosts = hosts_in_use(config)
    sdn = network.sdn
    return LabNetworkArgs(
        bridge=network.bridge,
        hosts=hosts,
        ports=dict(network.bridge_ports),
        host_addresses={host: str(iface) for host, iface in network.host_addresses.items()},
        mtu=explicit_mtu(network),
        sdn=None
        if sdn is None
        else SdnSpec(
            kind=network.fabric,
            zone=sdn.zone,
            tag=sdn.tag,
            peers=[str(sdn.peers[host]) for host in hosts if host in sdn.peers],
            uplink=(sdn.uplink or config.proxmox.wan_bridge) if network.fabric == "vlan" else "",
        ),
    )


def _router_args(
    config: LabConfig,
    *,
    lan_bridge: pulumi.Input[str],
    public_keys: pulumi.Input[list[str]],
    private_key: pulumi.Input[str],
    template_file_id: pulumi.Input[str],
) -> RouterArgs:
    spec = config.network.router
    return RouterArgs(
        container=ContainerSpec(
            host=router_host(config),
            vm_id=spec.vm_id,
            description="homelab router: DHCP/DNS for the lab, NAT and firewall to the home LAN",
            tags=["homelab", config.cluster.name, "router"],
            cores=spec.cores,
            memory_mib=spec.memory_mib,
            disk_gib=spec.disk_gib,
            datastore=config.proxmox.vm_datastore,
        ),
        hostname=spec.name,
        wan=RouterNic(bridge=config.proxmox.wan_bridge, mac=router_wan_mac(config), address=str(spec.wan_address)),
        wan_gateway=str(spec.wan_gateway),
        lan=RouterNic(
            bridge=lan_bridge,
            mac=router_lan_mac(config),
            address=f"{spec.address}/{config.network.cidr.prefixlen}",
            mtu=explicit_mtu(config.network),
        ),
        dns_servers=[str(server) for server in config.network.upstream_dns],
        public_keys=public_keys,
        private_key=private_key,
        template_file_id=template_file_id,
        setup_script=render_router_files(config).setup_sh,
    )


def stack_outputs(lab: Lab) -> dict[str, pulumi.Input[object]]:
    """The stack outputs (DESIGN §3); kubeconfig, talosconfig and the key stay secret."""
    config = lab.config
    return {
        "url": outputs.site_url(config),
        "httpsUrl": outputs.site_https_url(config),
        "caCertificate": lab.certificates.ca_certificate,
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
