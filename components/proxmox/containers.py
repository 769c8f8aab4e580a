"""ContainerTemplates: the Debian image both LXC guests (router, client) are created from."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve

# From Proxmox's appliance index (`pveam available`, http://download.proxmox.com/images/aplinfo-pve-8.dat).
DEBIAN_TEMPLATE_URL = "http://download.proxmox.com/images/system/debian-12-standard_12.7-1_amd64.tar.zst"
DEBIAN_TEMPLATE_SHA512 = (
    "39f6d06e082d6a418438483da4f76092ebd0370a91bad30b82ab6d0f442234d6"
    "3fe27a15569895e34d6d1e5ca50319f62637f7fb96b98dbde4f6103cf05bff6d"
)


@dataclass(frozen=True)
class TemplateSpec:
    url: str = DEBIAN_TEMPLATE_URL
    checksum: str = DEBIAN_TEMPLATE_SHA512
    checksum_algorithm: str = "sha512"


class ContainerTemplates(pulumi.ComponentResource):
    """The Debian template on each host that runs one of the lab's containers."""

    file_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, hosts: list[str], datastore: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:proxmox:ContainerTemplates", name, None, opts)
        spec = TemplateSpec()
        self.file_ids = {
            host: proxmoxve.download.File(
                f"{name}-{host}",
                node_name=host,
                content_type="vztmpl",
                datastore_id=datastore,
                url=spec.url,
                checksum=spec.checksum,
                checksum_algorithm=spec.checksum_algorithm,
                overwrite=False,
                opts=pulumi.ResourceOptions(parent=self),
            ).id
            for host in hosts
        }
        self.register_outputs({"fileIds": self.file_ids})


@dataclass(frozen=True)
class ContainerSpec:
    """What differs between the lab's containers; everything else is the same for both."""

    host: str
    vm_id: int
    description: str
    tags: list[str]
    cores: int
    memory_mib: int
    disk_gib: int
    datastore: str


def debian_container(
    name: str,
    spec: ContainerSpec,
    *,
    template_file_id: pulumi.Input[str],
    network_interfaces: list[proxmoxve.ContainerLegacyNetworkInterfaceArgs],
    initialization: proxmoxve.ContainerLegacyInitializationArgs,
    opts: pulumi.ResourceOptions,
) -> proxmoxve.ContainerLegacy:
    """An unprivileged Debian container, started now and at every boot of its host."""
    return proxmoxve.ContainerLegacy(
        name,
        node_name=spec.host,
        vm_id=spec.vm_id,
        description=spec.description,
        tags=spec.tags,
        unprivileged=True,
        # Debian 12's systemd needs nesting in an unprivileged container.
        features=proxmoxve.ContainerLegacyFeaturesArgs(nesting=True),
        operating_system=proxmoxve.ContainerLegacyOperatingSystemArgs(template_file_id=template_file_id, type="debian"),
        cpu=proxmoxve.ContainerLegacyCpuArgs(cores=spec.cores),
        memory=proxmoxve.ContainerLegacyMemoryArgs(dedicated=spec.memory_mib, swap=0),
        disk=proxmoxve.ContainerLegacyDiskArgs(datastore_id=spec.datastore, size=spec.disk_gib),
        network_interfaces=network_interfaces,
        initialization=initialization,
        start_on_boot=True,
        started=True,
        opts=opts,
    )
