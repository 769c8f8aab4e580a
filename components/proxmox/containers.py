"""ContainerTemplates: the Debian image both LXC guests (router, client) are created from."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve

from components.proxmox.guest_options import guest_options, guest_tags


@dataclass(frozen=True)
class TemplateSpec:
    url: str
    sha512: str


class ContainerTemplates(pulumi.ComponentResource):
    """The Debian template on each host that runs one of the lab's containers."""

    file_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        spec: TemplateSpec,
        hosts: list[str],
        *,
        datastore: str,
        lab_name: str,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("homelab:proxmox:ContainerTemplates", name, None, opts)
        self.file_ids = {
            host: proxmoxve.download.File(
                f"{name}-{host}",
                node_name=host,
                content_type="vztmpl",
                datastore_id=datastore,
                url=spec.url,
                # Our own name, so a copy the user fetched with `pveam` (same file name as the URL's) is never
                # touched, and `overwrite_unmanaged` replaces only a leftover of this program (e.g. after lost
                # state) instead of failing with "already exists" (bpg fwprovider/nodes/resource_download_file.go:
                # Create deletes and re-downloads on isErrFileAlreadyExists when overwrite_unmanaged is set).
                file_name=template_file_name(spec.url, lab_name),
                checksum=spec.sha512,
                checksum_algorithm="sha512",
                overwrite=False,
                overwrite_unmanaged=True,
                opts=pulumi.ResourceOptions(parent=self),
            ).id
            for host in hosts
        }
        self.register_outputs({"fileIds": self.file_ids})


def template_file_name(url: str, lab_name: str) -> str:
    """The lab's own copy: two labs on one host never share it (nor delete it when one is destroyed).

    The lab name is a DNS label, which Proxmox keeps as it is in a file name (pve-storage
    src/PVE/Storage.pm normalize_content_filename keeps [a-zA-Z0-9_.-]). For the default lab
    `homelab` it is the name earlier versions gave every lab, so their template stays.
    """
    return f"{lab_name}-{posixpath.basename(url)}"


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
        tags=guest_tags(*spec.tags),
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
        opts=guest_options(opts),
    )
