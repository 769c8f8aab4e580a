"""TalosNode: one Talos VM on the lab bridge with its reserved MAC."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_proxmoxve as proxmoxve

from components.proxmox.guest_firewall import GuestFirewall, GuestFirewallArgs, GuestKind
from components.proxmox.guest_options import guest_options, guest_tags
from config.guests import Guest

AGENT_TIMEOUT = "2m"


@dataclass(frozen=True)
class TalosNodeArgs:
    guest: Guest
    cluster_name: str
    bridge: pulumi.Input[str]
    iso_file_id: pulumi.Input[str]
    datastore: str
    shared_addresses: tuple[str, ...] = ()
    """Addresses the node answers for besides its own (pool, VIP): its NIC's IP filter allows them."""
    mtu: int | None = None
    """The lab MTU where it is not Ethernet's 1500 (virtio honours it; the bridge's must not be smaller)."""


class TalosNode(pulumi.ComponentResource):
    address: str
    vm: proxmoxve.VmLegacy
    firewall: GuestFirewall

    def __init__(self, name: str, args: TalosNodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:talos:TalosNode", name, None, opts)
        guest = args.guest
        self.address = str(guest.address)
        self.vm = proxmoxve.VmLegacy(
            f"{name}-vm",
            name=guest.name,
            node_name=guest.proxmox_node,
            vm_id=guest.vm_id,
            description=f"Talos {guest.role.value} of cluster {args.cluster_name} (managed by Pulumi)",
            tags=guest_tags("homelab", args.cluster_name, "talos", guest.role.value),
            machine="q35",
            bios="seabios",
            operating_system=proxmoxve.VmLegacyOperatingSystemArgs(type="l26"),
            # Talos needs x86-64-v2; "host" passes the CPU's features through.
            cpu=proxmoxve.VmLegacyCpuArgs(cores=guest.cores, type="host"),
            memory=proxmoxve.VmLegacyMemoryArgs(dedicated=guest.memory_mib),
            scsi_hardware="virtio-scsi-single",
            disks=[
                proxmoxve.VmLegacyDiskArgs(
                    interface="scsi0",
                    datastore_id=args.datastore,
                    size=guest.disk_gib,
                    file_format="raw",
                    discard="on",
                    iothread=True,
                    ssd=True,
                )
            ],
            cdrom=proxmoxve.VmLegacyCdromArgs(interface="ide2", file_id=args.iso_file_id),
            # Disk first: the ISO boots only until Talos is installed on the empty disk.
            boot_orders=["scsi0", "ide2"],
            network_devices=[
                proxmoxve.VmLegacyNetworkDeviceArgs(
                    bridge=args.bridge, mac_address=guest.mac, model="virtio", firewall=True, mtu=args.mtu
                )
            ],
            # The agent lets Proxmox shut the VM down and see it; the program never reads the addresses it
            # reports (they are reserved in advance), so the provider must not poll for them on every
            # create and refresh. The timeout bounds any other wait on the agent.
            agent=proxmoxve.VmLegacyAgentArgs(
                enabled=True,
                trim=True,
                timeout=AGENT_TIMEOUT,
                wait_for_ip=proxmoxve.VmLegacyAgentWaitForIpArgs(disabled=True),
            ),
            on_boot=True,
            started=True,
            stop_on_destroy=True,
            # The CD-ROM follows the ISO's id, so no VM points at a file the same `up` deletes (a moved
            # `isoDatastore` replaces the ISO, created first). The id is stable across Talos versions (the
            # ISO ignores its url and file name), and bpg reads back the volume id the ISO's id is, so
            # there is no perpetual diff (proxmoxtf/resource/vm/vm.go: the read sets cdrom.file_id to the
            # drive's FileVolume; an update changes only the medium, no reboot).
            opts=guest_options(pulumi.ResourceOptions(parent=self)),
        )
        self.firewall = GuestFirewall(
            f"{name}-firewall",
            GuestFirewallArgs(
                node_name=guest.proxmox_node,
                vm_id=guest.vm_id,
                kind=GuestKind.VM,
                nic_index=0,
                mac=guest.mac,
                addresses=[self.address, *args.shared_addresses],
                guest=self.vm,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"address": self.address, "vmId": self.vm.vm_id})
