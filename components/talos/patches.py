"""Talos machine config patches for one node (pure: no Pulumi).

`pulumiverse_talos.machine.get_configuration_output` generates the base
config (cluster name, endpoint, secrets, versions) and applies these patches.
Each patch is one YAML document: a partial v1alpha1 document (strategic
merge) or a complete Talos 1.13 multi-document config (HostnameConfig,
ResolverConfig, LinkAliasConfig, Layer2VIPConfig). Talos 1.13 dropped
`machine.network` from the v1alpha1 document, so everything network-related
goes into the multi-document kinds.
"""

from __future__ import annotations

from typing import Any

import yaml

from config.fabric import explicit_mtu
from config.guests import Guest, Role, cluster_endpoint_address
from config.models import LabConfig

API_SERVER_PORT = 6443

# The VIP needs a link name. Talos names a Proxmox virtio NIC predictably
# (`ens18`, depending on the PCI slot), so neither `eth0` nor a guessed kernel
# name is safe; an alias bound to the NIC's pinned MAC is. Aliases may be used
# wherever a link name is expected:
# https://docs.siderolabs.com/talos/v1.13/networking/configuration/aliases
LAB_LINK_ALIAS = "lab0"
TOPOLOGY_REGION = "topology.kubernetes.io/region"
TOPOLOGY_ZONE = "topology.kubernetes.io/zone"

Document = dict[str, Any]


def cluster_endpoint(config: LabConfig) -> str:
    """The Kubernetes API endpoint: the VIP with more than one control plane, else the first control plane."""
    return f"https://{cluster_endpoint_address(config)}:{API_SERVER_PORT}"


def topology_labels(config: LabConfig, node: Guest) -> dict[str, str]:
    """Region (the Proxmox cluster) and zone (the node's host): where the storage plugin creates a pod's volume.

    Talos writes `machine.nodeLabels` with the node's kubelet identity; NodeRestriction lets a kubelet set
    exactly these `topology.kubernetes.io/*` labels on its own Node (kubernetes staging/src/k8s.io/kubelet/
    pkg/apis/well_known_labels.go `kubeletLabels`; Talos docs, Kubernetes guides > Node Labels).
    """
    return {TOPOLOGY_REGION: config.proxmox.cluster_name, TOPOLOGY_ZONE: node.proxmox_node}


def node_patches(config: LabConfig, node: Guest, installer_image: str) -> list[str]:
    """The config patches for one Talos node: one YAML document per string (deterministic text)."""
    if not node.is_talos:
        raise ValueError(f"{node.name} is a {node.role.value}, not a Talos node")
    documents = [
        _machine_patch(config, node, installer_image),
        _hostname_config(node),
        _resolver_config(config),
    ]
    mtu = explicit_mtu(config.network)
    vip = node.role is Role.CONTROL_PLANE and config.cluster.vip is not None
    if vip or mtu is not None:
        documents.append(_link_alias_config(node))
    if mtu is not None:
        documents += _link_mtu_configs(mtu)
    if vip:
        documents.append(_layer2_vip_config(config))
    return [_render(document) for document in documents]


def patches_document(patches: list[str]) -> str:
    """The patches as one multi-document YAML text (what `homelab plan` writes to talos/<node>.yaml)."""
    return "---\n".join(patch if patch.endswith("\n") else f"{patch}\n" for patch in patches)


def _machine_patch(config: LabConfig, node: Guest, installer_image: str) -> Document:
    """The partial v1alpha1 document: install, kubelet, cluster networking, control-plane extras."""
    lab_subnets = [str(config.network.cidr)]
    machine: Document = {
        "install": {"disk": config.cluster.install_disk, "image": installer_image},
        "kubelet": {"nodeIP": {"validSubnets": lab_subnets}},
        "nodeLabels": topology_labels(config, node),
    }
    cluster: Document = {
        "network": {
            "podSubnets": [str(config.cluster.pod_cidr)],
            "serviceSubnets": [str(config.cluster.service_cidr)],
        },
    }
    if node.role is Role.CONTROL_PLANE:
        endpoint_sans = [str(cluster_endpoint_address(config))]
        machine["certSANs"] = endpoint_sans
        cluster["apiServer"] = {"certSANs": endpoint_sans}
        cluster["etcd"] = {"advertisedSubnets": lab_subnets}
        # A lab without workers still has to run the site, so its control planes take workloads.
        cluster["allowSchedulingOnControlPlanes"] = not config.cluster.workers
    return {"machine": machine, "cluster": cluster}


def _hostname_config(node: Guest) -> Document:
    # The generated base carries `HostnameConfig{auto: stable}`; a static hostname
    # merged onto it is rejected unless `auto` is turned off in the same patch:
    # https://docs.siderolabs.com/talos/v1.13/networking/configuration/hostname
    return _multi_doc("HostnameConfig", hostname=node.name, auto="off")


def _resolver_config(config: LabConfig) -> Document:
    """The router's dnsmasq is the lab's resolver (it forwards upstream)."""
    return _multi_doc("ResolverConfig", nameservers=[{"address": str(config.network.router.address)}])


def _link_alias_config(node: Guest) -> Document:
    # `mac()` formats addresses lowercase; the VM's NIC carries the pinned MAC, so
    # its permanent address is exactly this one.
    match = f'mac(link.permanent_addr) == "{node.mac.lower()}"'
    return _multi_doc("LinkAliasConfig", name=LAB_LINK_ALIAS, selector={"match": match})


def _link_mtu_configs(mtu: int) -> list[Document]:
    """The lab MTU on the lab link; DHCP stays on, as it is on a link no document configures."""
    # https://docs.siderolabs.com/talos/v1.13/networking/configuration/ (LinkConfig, DHCPv4Config)
    return [_multi_doc("LinkConfig", name=LAB_LINK_ALIAS, mtu=mtu), _multi_doc("DHCPv4Config", name=LAB_LINK_ALIAS)]


def _layer2_vip_config(config: LabConfig) -> Document:
    return _multi_doc("Layer2VIPConfig", name=str(config.cluster.vip), link=LAB_LINK_ALIAS)


def _multi_doc(kind: str, **fields: Any) -> Document:
    return {"apiVersion": "v1alpha1", "kind": kind, **fields}


# libyaml's emitter (PyYAML's wheels ship it) writes these documents byte for byte as the
# pure-Python one does, four times faster: a 60-worker lab renders about 200 of them.
_DUMPER = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper


def _render(document: Document) -> str:
    # Insertion order, not sorted: apiVersion and kind lead, as Talos writes them.
    return yaml.dump(_unshared(document), Dumper=_DUMPER, sort_keys=False, default_flow_style=False)


def _unshared(value: Any) -> Any:
    """A copy in which no list or mapping appears twice (YAML would write the second as an alias)."""
    if isinstance(value, dict):
        return {key: _unshared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unshared(item) for item in value]
    return value
