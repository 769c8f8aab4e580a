"""The program: the components chained by their outputs (DESIGN §3).

`build` is what `pulumi up` runs (via __main__.py) and what `homelab plan`
runs under mocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from check.expiry import client_certificate_expiry
from components import outputs
from components.day2_guard import INVENTORY_OUTPUT, previous_inventory, reviewed
from components.kubernetes.lab_ca import LabCertificates, LabCertificatesArgs
from components.kubernetes.metallb import MetalLB, MetalLBArgs
from components.kubernetes.site import ExampleSite, ExampleSiteArgs
from components.kubernetes.storage import Storage, StorageArgs
from components.kubernetes.traefik import Traefik, TraefikArgs
from components.kubernetes.volume_example import ExampleVolume
from components.proxmox.containers import ContainerSpec, ContainerTemplates, TemplateSpec
from components.proxmox.datacenter_firewall import DatacenterFirewall, DatacenterFirewallArgs
from components.proxmox.guest_firewall import talos_shared_addresses
from components.proxmox.guest_options import renamed_from
from components.proxmox.lab_bridge import LabNetwork, LabNetworkArgs, SdnSpec
from components.proxmox.management_key import ManagementKey
from components.proxmox.storage_access import NodeVm, StorageAccess, StorageAccessArgs
from components.router.files import render_router_files
from components.router.router import Router, RouterArgs, RouterNic
from components.talos.client import TalosClient, TalosClientArgs
from components.talos.client_tools import ToolPins
from components.talos.cluster import ClusterNode, TalosCluster, TalosClusterArgs
from components.talos.image import TalosImage, TalosImageArgs
from components.talos.membership import ClusterMembership, ClusterMembershipArgs, MemberNode
from components.talos.node import TalosNode, TalosNodeArgs
from components.talos.patches import cluster_endpoint, node_patches
from components.talos.upgrade import ClusterUpgrade, ClusterUpgradeArgs
from config.fabric import explicit_mtu
from config.guests import (
    ROUTER_KEY,
    Guest,
    Role,
    client_guest,
    cluster_endpoint_address,
    hosts_in_use,
    router_host,
    router_lan_mac,
    router_wan_mac,
    talos_nodes,
)
from config.inventory import inventory_from_output, lab_inventory
from config.models import LabConfig
from config.storage import plugin_api_url, volume_datastore


@dataclass(frozen=True)
class Lab:
    config: LabConfig
    router: Router
    nodes: list[TalosNode]
    client: TalosClient
    cluster: TalosCluster
    upgrade: ClusterUpgrade
    membership: ClusterMembership
    management_key: ManagementKey
    router_key: ManagementKey
    site: ExampleSite
    certificates: LabCertificates


def build(config: LabConfig) -> Lab:
    proxmox = config.proxmox
    client_spec = client_guest(config)
    node_specs = talos_nodes(config)
    previous = previous_inventory()
    allowed = reviewed(config, previous)

    mtu = explicit_mtu(config.network)
    network = LabNetwork("lab-network", lab_network_args(config))
    # Every guest sits on its lab bridge: waiting for the review there means no guest is created,
    # replaced or updated before a refused change stops the program.
    lab_bridges = {
        host: pulumi.Output.all(allowed, name).apply(lambda values: str(values[1]))
        for host, name in network.bridge_names.items()
    }
    # One key per container: the router's never opens the client, which holds the cluster's credentials.
    # The client's keeps its name (and its container) from before there were two.
    client_key = ManagementKey("management-key")
    router_key = ManagementKey("router-management-key")
    public_keys = client_key.public_key.apply(lambda own: [own, *config.ssh_public_keys])
    router_public_keys = router_key.public_key.apply(lambda own: [own, *config.ssh_public_keys])
    firewall = DatacenterFirewall(
        "datacenter-firewall",
        DatacenterFirewallArgs(
            manage=proxmox.manage_datacenter_firewall,
            lab_cidr=str(config.network.cidr),
            bridge=config.network.bridge,
            hosts_on_lab=sorted(config.network.host_addresses, key=proxmox.nodes.index),
            api_clients=(
                [str(g.address) for g in node_specs if g.role is Role.CONTROL_PLANE] if config.storage.enabled else []
            ),
        ),
    )
    templates = ContainerTemplates(
        "container-template",
        TemplateSpec(url=proxmox.container_template.url, sha512=proxmox.container_template.sha512),
        sorted({router_host(config), client_spec.proxmox_node}, key=proxmox.nodes.index),
        datastore=proxmox.iso_datastore,
        lab_name=config.cluster.name,
    )
    router = Router(
        ROUTER_KEY,
        _router_args(
            config,
            lan_bridge=lab_bridges[router_host(config)],
            public_keys=router_public_keys,
            private_key=router_key.private_key,
            template_file_id=templates.file_ids[router_host(config)],
        ),
    )
    image = TalosImage(
        "talos-image",
        TalosImageArgs(
            talos_version=config.cluster.talos_version,
            hosts=sorted({g.proxmox_node for g in node_specs}, key=proxmox.nodes.index),
            datastore=proxmox.iso_datastore,
            lab_name=config.cluster.name,
        ),
    )
    nodes = [
        TalosNode(
            guest.key,
            TalosNodeArgs(
                guest=guest,
                cluster_name=config.cluster.name,
                bridge=lab_bridges[guest.proxmox_node],
                iso_file_id=image.iso_file_ids[guest.proxmox_node],
                datastore=proxmox.vm_datastore,
                shared_addresses=tuple(
                    talos_shared_addresses(guest.role, config.load_balancer.pool, config.cluster.vip)
                ),
                mtu=mtu,
            ),
            pulumi.ResourceOptions(aliases=renamed_from(guest.former_key, guest.key)),
        )
        for guest in node_specs
    ]
    cluster = TalosCluster(
        "cluster",
        TalosClusterArgs(
            cluster_name=config.cluster.name,
            config_contract=config.cluster.machine_config_contract,
            kubernetes_version=previous.apply(lambda value: applied_kubernetes_version(value, config)),
            endpoint=cluster_endpoint(config),
            endpoint_address=str(cluster_endpoint_address(config)),
            nodes=[
                ClusterNode(
                    guest=spec,
                    vm=node.vm,
                    guarded_by=(node.firewall, firewall),
                    config_patches=image.installer_image.apply(lambda image, g=spec: node_patches(config, g, image)),
                )
                for spec, node in zip(node_specs, nodes, strict=True)
            ],
            network_ready=router,
        ),
    )
    client = TalosClient(
        client_spec.key,
        TalosClientArgs(
            guest=client_spec,
            talos_version=config.cluster.talos_version,
            kubernetes_version=config.cluster.kubernetes_version,
            bridge=lab_bridges[client_spec.proxmox_node],
            datastore=proxmox.vm_datastore,
            template_file_id=templates.file_ids[client_spec.proxmox_node],
            public_keys=public_keys,
            private_key=client_key.private_key,
            router_ready=router,
            talosconfig=cluster.talosconfig,
            kubeconfig=cluster.kubeconfig,
            cluster_ready=cluster.ready,
            control_planes=[str(g.address) for g in node_specs if g.role is Role.CONTROL_PLANE],
            workers=[str(g.address) for g in node_specs if g.role is Role.WORKER],
            backup=config.backup,
            ssh_sources=[*map(str, config.network.admin_cidrs), f"{config.network.router.address}/32"],
            tool_pins=ToolPins(talosctl=config.client.talosctl_sha256, kubectl=config.client.kubectl_sha256),
            mtu=mtu,
        ),
        pulumi.ResourceOptions(aliases=renamed_from(client_spec.former_key, client_spec.key)),
    )

    upgrade = ClusterUpgrade(
        "cluster-upgrade",
        ClusterUpgradeArgs(
            client=client.ssh,
            talos_version=config.cluster.talos_version,
            kubernetes_version=config.cluster.kubernetes_version,
            schematic_id=image.schematic_id,
            installer_image=image.installer_image,
            control_planes=[str(g.address) for g in config.cluster.control_planes],
            workers=[str(g.address) for g in config.cluster.workers],
            # Only once the cluster passed its health gate: on a fresh lab the API server is still coming up
            # when the bootstrap and the applies are done.
            after=[*cluster.ready, *client.ready, client.healthy],
        ),
    )

    membership = ClusterMembership(
        "cluster-membership",
        ClusterMembershipArgs(
            connection=client.kubectl.connection,
            client_ready=client.ready,
            nodes=[
                MemberNode(name=node.pulumi_resource_name, guest=spec, vm=node.vm, apply=cluster.applies[node.address])
                for spec, node in zip(node_specs, nodes, strict=True)
            ],
        ),
    )

    # Everything in Kubernetes goes through this provider, so it waits for the cluster's first health
    # check and `pulumi destroy` removes it before the VMs. An ordering only: the check's own outputs
    # would make the provider's config unknown, and so replace it, whenever the check changed.
    provider = k8s.Provider(
        "kubernetes",
        kubeconfig=cluster.kubeconfig,
        enable_server_side_apply=True,
        # A destroy of a lab whose API is gone drops the objects from the state instead of failing on each
        # (pulumi-kubernetes provider/pkg/provider/provider.go, Delete and Read). Helm releases are the
        # exception: Delete refuses them on an unreachable cluster, Read (`pulumi destroy --refresh`) drops them.
        delete_unreachable=True,
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
    if config.storage.enabled:
        _storage(config, list(zip(node_specs, nodes, strict=True)), in_cluster)
    return Lab(
        config=config,
        router=router,
        nodes=nodes,
        client=client,
        cluster=cluster,
        upgrade=upgrade,
        membership=membership,
        management_key=client_key,
        router_key=router_key,
        site=site,
        certificates=certificates,
    )


def applied_kubernetes_version(previous: Any, config: LabConfig) -> str:
    """The Kubernetes version the machine configs carry. The kubelet and control-plane images are in the
    machine config, so a new version there would reach every node at once through its apply; while
    the rollout's `talosctl upgrade-k8s` moves the cluster (control plane first, then the kubelets),
    the configs keep the version the lab runs, and take the new one at the next `pulumi up`, when
    upgrade-k8s has already written it (no change on the nodes)."""
    inventory = inventory_from_output(previous)
    target = config.cluster.kubernetes_version
    if inventory is None or inventory.kubernetes_version == target:
        return target
    return inventory.kubernetes_version


def _storage(config: LabConfig, nodes: list[tuple[Guest, TalosNode]], in_cluster: pulumi.ResourceOptions) -> None:
    """The CSI plugin's Proxmox access, the plugin and its StorageClass, and the example volume."""
    settings = config.storage
    api_url = plugin_api_url(config)
    if api_url is None:  # config.rules.storage_reachable refuses such a stack
        raise ValueError("storage is enabled without a Proxmox API the lab can reach")
    access = StorageAccess(
        "storage-access",
        StorageAccessArgs(
            lab_name=config.cluster.name,
            datastore=volume_datastore(config),
            nodes=[NodeVm(vm_id=guest.vm_id, vm=node.vm) for guest, node in nodes],
        ),
    )
    storage = Storage(
        "storage",
        StorageArgs(
            region=config.proxmox.cluster_name,
            api_url=api_url,
            insecure_tls=settings.insecure_tls,
            storage_class=settings.storage_class,
            datastore=volume_datastore(config),
            fs_type=settings.fs_type,
            reclaim_policy=settings.reclaim_policy,
            token_id=access.token_id,
            token_secret=access.token_secret,
        ),
        in_cluster,
    )
    ExampleVolume("example-volume", storage, in_cluster)


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
    """The stack outputs (DESIGN §3); kubeconfig, talosconfig and the keys stay secret."""
    config = lab.config
    return {
        "url": outputs.site_url(config),
        "httpsUrl": outputs.site_https_url(config),
        "caCertificate": lab.certificates.ca_certificate,
        "hostsLine": outputs.hosts_line(config),
        "routesLinux": outputs.laptop_routes_linux(config),
        "routesMacos": outputs.laptop_routes_macos(config),
        "nodeAddresses": outputs.node_addresses(config),
        # The previous inventory of the next `up` (config.identity): who is keyed how, with which NIC.
        "clientAddress": lab.client.address,
        "routerWanAddress": lab.router.wan_address,
        "routerLanAddress": lab.router.lan_address,
        # For a permanent neighbour entry on the machine running `pulumi up` (docs/security.md).
        "routerWanMac": router_wan_mac(config),
        "clusterEndpoint": lab.cluster.endpoint,
        "kubeconfig": lab.cluster.kubeconfig,
        "talosconfig": lab.cluster.talosconfig,
        # Read from the exported files' certificates; null where none is readable (as under mocks).
        "clientCertificateExpiry": pulumi.Output.unsecret(
            pulumi.Output.all(lab.cluster.talosconfig, lab.cluster.kubeconfig).apply(
                lambda files: client_certificate_expiry(files[0], files[1])
            )
        ),
        "managementPrivateKey": lab.management_key.private_key,
        INVENTORY_OUTPUT: lab_inventory(config).as_output(),
        "routerManagementPrivateKey": lab.router_key.private_key,
        # Public: what `known_hosts` pins (docs/security.md).
        "routerHostKey": lab.router.host_key,
        "clientHostKey": lab.client.host_key,
    }
