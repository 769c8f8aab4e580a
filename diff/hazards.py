"""What a change set does to the running lab, beyond Pulumi's steps (DESIGN §3, day 2, round two).

Each hazard is one of three kinds, listed first by `homelab diff`: `destroys` (data or membership
is lost), `interrupts` (something is down for a while) and `needs-you` (a step the program cannot
take). Cosmetic changes (names in the summary, replicas, tags) have none.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from components import outputs
from components.talos.lifecycle_units import BACKUP_DIR
from config.day2 import Destruction
from config.fabric import lab_mtu
from config.guests import ROUTER_KEY, cluster_endpoint_address, lab_guests
from config.models import LabConfig
from config.storage import volume_datastore
from diff.engine import Change
from diff.rollout_steps import ROLLOUT_NAME
from plan.run import PlanResult

VM = "proxmoxve:index/vmLegacy:VmLegacy"
CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy"
APPLY = "talos:machine/configurationApply:ConfigurationApply"
K8S_PROVIDER = "pulumi:providers:kubernetes"
RELEASE = "kubernetes:helm.sh/v3:Release"
CA_CERTIFICATE = "tls:index/selfSignedCert:SelfSignedCert"
ROUTER_CONFIGURE = "router-configure"
# VM inputs Proxmox applies only when the guest boots again; bpg then reboots the VM itself
# (bpg/terraform-provider-proxmox@d6bd1ff proxmoxtf/resource/vm/vm.go: reboot_after_update, default true).
_REBOOTING_VM_INPUTS = ("cpu", "memory", "networkDevices", "machine", "bios", "scsiHardware")


class HazardKind(Enum):
    DESTROYS = "destroys"
    """Data or membership is lost: a wiped disk, an etcd member, a volume, every Kubernetes object."""
    INTERRUPTS = "interrupts"
    """Something is down for a while: a reboot, DHCP, DNS, the site, the API."""
    NEEDS_YOU = "needs-you"
    """A step the program cannot take: on the laptop, in Proxmox, in the stack file."""


@dataclass(frozen=True)
class Hazard:
    kind: HazardKind
    subject: str
    why: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "subject": self.subject, "why": self.why}


def hazards(
    old: PlanResult, new: PlanResult, changes: list[Change], destroyed: list[Destruction], allowed: list[str]
) -> list[Hazard]:
    """`destroyed`: every guest the change deletes or replaces (config.day2); `allowed`: the stack's allowDestroy."""
    found: list[Hazard] = []
    for item in destroyed:
        consent = (
            "allowed by allowDestroy"
            if item.guest in allowed
            else f"pulumi up refuses it until homelab:allowDestroy names {item.guest}"
        )
        found.append(Hazard(HazardKind.DESTROYS, item.guest, f"{item.why} ({consent})"))
    gone = {item.guest for item in destroyed}
    names = {guest.key: guest.name for config in (old.config, new.config) for guest in lab_guests(config)}
    found += _guest_hazards(changes, gone, old.config, names)
    found += _cluster_hazards(changes, old.config, new.config)
    found += _fabric_hazards(old.config, new.config)
    found += _storage_hazards(old.config, new.config)
    found += _laptop_hazards(old.config, new.config)
    return found


def _by_name(changes: list[Change]) -> dict[str, Change]:
    return {change.name: change for change in changes}


def _guest_hazards(changes: list[Change], gone: set[str], old: LabConfig, names: dict[str, str]) -> list[Hazard]:
    """`names`: each guest's display name by its key (the name its resources carry)."""
    found: list[Hazard] = []
    router, client = old.network.router.name, old.client.name
    for change in changes:
        if change.type == CONTAINER and change.action == "replace":
            guest = router if change.name.startswith(f"{ROUTER_KEY}-") else client
            if guest in gone:
                continue
            why = (
                "the router container is made again: the lab has no DHCP, DNS or NAT until it is configured "
                "(about a minute); leases are kept by the guests"
                if guest == router
                else "the client container is made again: talosctl, kubectl and their files are installed anew"
            )
            found.append(Hazard(HazardKind.INTERRUPTS, guest, f"{why} ({_forced(change)})"))
            if guest == client and old.backup.target is None:
                found.append(
                    Hazard(
                        HazardKind.DESTROYS,
                        "etcd backups",
                        f"the snapshots in {BACKUP_DIR} on the client go with its container (no backup.target "
                        "copies them off); copy them first: scp -r root@<client>:" + BACKUP_DIR + " .",
                    )
                )
        if change.type == VM and change.action == "update":
            rebooting = [path for path in change.paths if path.split(".")[0].split("[")[0] in _REBOOTING_VM_INPUTS]
            if rebooting:
                key = change.name.removesuffix("-vm")
                node = names.get(key, key)
                found.append(
                    Hazard(
                        HazardKind.INTERRUPTS,
                        node,
                        f"bpg reboots the VM to take {', '.join(rebooting)} (reboot_after_update): the node is down "
                        "for about a minute",
                    )
                )
    applies = [c.name for c in changes if c.type == APPLY and c.action == "update"]
    if applies:
        keys = [name.removeprefix("cluster-").removesuffix("-apply") for name in applies]
        nodes = ", ".join(names.get(key, key) for key in keys)
        found.append(
            Hazard(
                HazardKind.INTERRUPTS,
                nodes,
                "the machine config changes: Talos applies it in place and reboots a node only where the change "
                "needs it (e.g. the install disk)",
            )
        )
    configure = _by_name(changes).get(ROUTER_CONFIGURE)
    if configure is not None and configure.action == "update" and router not in gone:
        found.append(
            Hazard(
                HazardKind.INTERRUPTS,
                router,
                "dnsmasq and nftables are reloaded: DHCP and DNS pause for a second; management sessions from "
                "sources no longer in adminCidrs end",
            )
        )
    return found


def _forced(change: Change) -> str:
    return change.reason.split(" (", 1)[0] if change.reason else "replaced"


def _cluster_hazards(changes: list[Change], old: LabConfig, new: LabConfig) -> list[Hazard]:
    found: list[Hazard] = []
    named = _by_name(changes)
    rollout = named.get(ROLLOUT_NAME)
    if rollout is not None and rollout.action != "delete":
        single = len(new.cluster.control_planes) == 1
        if old.cluster.talos_version != new.cluster.talos_version:
            found.append(
                Hazard(
                    HazardKind.INTERRUPTS,
                    "cluster",
                    f"every node is upgraded to Talos {new.cluster.talos_version} and reboots, one at a time"
                    + ("; with one control plane the Kubernetes API is down while it reboots" if single else ""),
                )
            )
        if old.cluster.kubernetes_version != new.cluster.kubernetes_version:
            found.append(
                Hazard(
                    HazardKind.INTERRUPTS,
                    "cluster",
                    f"talosctl upgrade-k8s moves the control plane, then each kubelet, to "
                    f"{new.cluster.kubernetes_version}; the machine configs take the version at the next pulumi up",
                )
            )
    provider = named.get("kubernetes")
    if provider is not None and provider.type == K8S_PROVIDER and provider.action == "replace":
        found.append(
            Hazard(
                HazardKind.DESTROYS,
                "Kubernetes objects",
                "the Kubernetes provider is replaced, so every object it manages (MetalLB, Traefik, the site) is "
                "deleted and created again",
            )
        )
    for change in changes:
        if change.type == RELEASE and change.action in ("update", "replace"):
            found.append(
                Hazard(
                    HazardKind.INTERRUPTS,
                    change.name.removesuffix("-release"),
                    "its pods roll: the site can drop connections and the ingress address can move between nodes",
                )
            )
        if change.type == CA_CERTIFICATE and change.action == "replace":
            found.append(
                Hazard(
                    HazardKind.NEEDS_YOU,
                    "lab CA",
                    "a new lab CA: trust it again on every laptop (pulumi stack output caCertificate > lab-ca.pem)",
                )
            )
    if cluster_endpoint_address(old) != cluster_endpoint_address(new):
        found.append(
            Hazard(
                HazardKind.NEEDS_YOU,
                "kubeconfig",
                f"the Kubernetes API moves to {cluster_endpoint_address(new)}: export the kubeconfig again "
                "(pulumi stack output kubeconfig --show-secrets > kubeconfig)",
            )
        )
    return found


def _fabric_hazards(old: LabConfig, new: LabConfig) -> list[Hazard]:
    """The lab segment under every guest (docs/fabric.md)."""
    found: list[Hazard] = []
    before, after = old.network, new.network
    if before.fabric != after.fabric:
        found.append(
            Hazard(
                HazardKind.INTERRUPTS,
                "lab network",
                f"the fabric changes from {before.fabric} to {after.fabric}: every lab NIC moves to the new segment "
                "in place, the router's LAN among them (DHCP, DNS and NAT pause), and the old bridges go last",
            )
        )
        if before.fabric == "bridge" and after.bridge == before.bridge:
            found.append(
                Hazard(
                    HazardKind.NEEDS_YOU,
                    "lab network",
                    f"the VNet {after.bridge} has the name of the Linux bridge it replaces, which stays in "
                    "/etc/network/interfaces until that bridge is deleted: give network.bridge another name",
                )
            )
    if lab_mtu(before) != lab_mtu(after):
        found.append(
            Hazard(
                HazardKind.INTERRUPTS,
                "pods",
                f"the lab MTU changes from {lab_mtu(before)} to {lab_mtu(after)}: flannel keeps the MTU it started "
                "with; restart the kube-flannel DaemonSet, then the workloads (docs/fabric.md)",
            )
        )
    return found


def _storage_hazards(old: LabConfig, new: LabConfig) -> list[Hazard]:
    """What the Proxmox CSI plugin's volumes go through (docs/storage.md)."""
    before, after = old.storage, new.storage
    found: list[Hazard] = []
    if after.enabled and not before.enabled:
        found.append(
            Hazard(
                HazardKind.NEEDS_YOU,
                "Proxmox token",
                "storage needs Realm.AllocateUser and User.Modify in the program's role (it makes the plugin's "
                "user and token), and port 8006 of the plugin's API address open from network.cidr",
            )
        )
    if before.enabled and not after.enabled:
        lost = (
            "; with reclaimPolicy Delete the example claim's volume is deleted with its namespace"
            if before.reclaim_policy == "Delete"
            else ""
        )
        found.append(
            Hazard(
                HazardKind.DESTROYS if lost else HazardKind.NEEDS_YOU,
                "storage",
                "the CSI plugin goes: claims in use lose their driver, and the vm-9999-pvc-* disks stay on the "
                f"datastore for you to remove (pvesm list <datastore> --vmid 9999){lost}",
            )
        )
    if before.enabled and after.enabled:
        if volume_datastore(old) != volume_datastore(new):
            found.append(
                Hazard(
                    HazardKind.NEEDS_YOU,
                    "storage",
                    f"the token's grant moves to {volume_datastore(new)}: volumes on {volume_datastore(old)} can no "
                    "longer be attached; move their data first",
                )
            )
        if before.storage_class != after.storage_class:
            found.append(
                Hazard(
                    HazardKind.NEEDS_YOU,
                    "StorageClass",
                    f"{before.storage_class} becomes {after.storage_class}: claims naming the old class are no "
                    "longer provisioned",
                )
            )
        if old.proxmox.cluster_name != new.proxmox.cluster_name:
            found.append(
                Hazard(
                    HazardKind.INTERRUPTS,
                    "volumes",
                    "existing volumes keep the old topology region: pods using them stay Pending",
                )
            )
    return found


def _laptop_hazards(old: LabConfig, new: LabConfig) -> list[Hazard]:
    found: list[Hazard] = []
    if outputs.hosts_line(old) != outputs.hosts_line(new):
        found.append(
            Hazard(HazardKind.NEEDS_YOU, "/etc/hosts", f"the laptop's hosts line becomes: {outputs.hosts_line(new)}")
        )
    if outputs.laptop_routes_linux(old) != outputs.laptop_routes_linux(new):
        found.append(
            Hazard(
                HazardKind.NEEDS_YOU,
                "laptop routes",
                "the laptop's routes become: " + "; ".join(outputs.laptop_routes_linux(new)),
            )
        )
    return found
