"""What the storage settings resolve to (pure): the datastore, the API URL the plugin calls, topology.

The Proxmox CSI plugin names every volume it creates `vm-<id>-pvc-<uuid>` with one fixed owner id
(`features.controllerVmID` of its config, default 9999: proxmox-csi-plugin v0.19.1 pkg/config/config.go,
pkg/csi/controller.go CreateVolume). Proxmox frees only the volumes a VM owns when it destroys the VM
(qemu-server PVE/QemuServer.pm destroy_vm: "only remove disks owned by this VM"), so a volume outlives
any node it is attached to, unless a guest has that id.
"""

from __future__ import annotations

from config.models import LabConfig

VOLUME_OWNER_VM_ID = 9999
PROXMOX_API_PORT = 8006


def volume_datastore(config: LabConfig) -> str:
    return config.storage.datastore or config.proxmox.vm_datastore


def plugin_api_url(config: LabConfig) -> str | None:
    """The API as the plugin reaches it from the lab: given, or the first host with an address on the lab bridge.

    Lab guests reach nothing on the home LAN (the router's contract), so the endpoint the program uses
    (`proxmoxve:endpoint`) is not one the plugin can call.
    """
    if config.storage.api_url is not None:
        return config.storage.api_url
    addresses = config.network.host_addresses
    host = next((host for host in config.proxmox.nodes if host in addresses), None)
    if host is None:
        return None
    return f"https://{addresses[host].ip}:{PROXMOX_API_PORT}/api2/json"
