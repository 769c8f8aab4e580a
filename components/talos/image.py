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


@dataclass(frozen=True)
class TalosImageArgs:
    talos_version: str
    hosts: list[str]
    datastore: str


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
                    lambda schematic_id: f"talos-{args.talos_version}-{PLATFORM}-{ARCHITECTURE}-{schematic_id[:12]}.iso"
                ),
                overwrite=False,
                # The ISO only boots a new VM into maintenance mode; the installer image in the machine
                # config decides the installed version. Keeping the first ISO on a version bump leaves
                # existing VMs' CD-ROM pointing at a file that still exists.
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["url", "file_name"]),
            ).id
            for host in args.hosts
        }
        self.register_outputs(
            {"schematicId": self.schematic_id, "installerImage": self.installer_image, "isoFileIds": self.iso_file_ids}
        )
