"""TalosImage: an image-factory schematic with the guest agent, and its ISO on each host."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve
import pulumiverse_talos as talos
import yaml

# Proxmox VMs: the nocloud platform image; the guest agent lets Proxmox see and stop the VM cleanly.
PLATFORM = "nocloud"
ARCHITECTURE = "amd64"
EXTENSIONS = ["siderolabs/qemu-guest-agent"]


def schematic_yaml(extensions: list[str]) -> str:
    return yaml.safe_dump({"customization": {"systemExtensions": {"officialExtensions": extensions}}}, sort_keys=True)


def iso_file_name(lab_name: str, talos_version: str, schematic_id: str) -> str:
    """The lab's own ISO file: two labs on one host never share it, so destroying one keeps the other's.

    A DNS label (the lab name) stays as it is in a Proxmox file name (pve-storage src/PVE/Storage.pm
    normalize_content_filename keeps [a-zA-Z0-9_.-]).
    """
    return f"{lab_name}-talos-{talos_version}-{PLATFORM}-{ARCHITECTURE}-{schematic_id[:12]}.iso"


@dataclass(frozen=True)
class TalosImageArgs:
    talos_version: str
    hosts: list[str]
    datastore: str
    lab_name: str


class TalosImage(pulumi.ComponentResource):
    iso_file_ids: dict[str, pulumi.Output[str]]
    installer_image: pulumi.Output[str]
    schematic_id: pulumi.Output[str]

    def __init__(self, name: str, args: TalosImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:talos:TalosImage", name, None, opts)
        schematic = talos.imagefactory.Schematic(
            f"{name}-schematic", schematic=schematic_yaml(EXTENSIONS), opts=pulumi.ResourceOptions(parent=self)
        )
        urls = talos.imagefactory.get_urls_output(
            schematic_id=schematic.id,
            talos_version=args.talos_version,
            platform=PLATFORM,
            architecture=ARCHITECTURE,
            opts=pulumi.InvokeOutputOptions(parent=self),
        ).urls
        self.schematic_id = schematic.id
        self.installer_image = urls.installer
        self.iso_file_ids = {
            host: proxmoxve.download.File(
                f"{name}-iso-{host}",
                node_name=host,
                content_type="iso",
                datastore_id=args.datastore,
                url=urls.iso,
                file_name=schematic.id.apply(
                    lambda schematic_id: iso_file_name(args.lab_name, args.talos_version, schematic_id)
                ),
                overwrite=False,
                # The ISO only boots a new VM into maintenance mode; the installer image in the machine
                # config decides the installed version. Keeping the first ISO on a version bump leaves
                # existing VMs' CD-ROM pointing at a file that still exists. (So an ISO an earlier version
                # downloaded keeps its name, without the lab's, until it is replaced.)
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["url", "file_name"]),
            ).id
            for host in args.hosts
        }
        self.register_outputs(
            {"schematicId": self.schematic_id, "installerImage": self.installer_image, "isoFileIds": self.iso_file_ids}
        )
