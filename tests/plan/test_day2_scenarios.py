"""Day 2: each change a lab owner makes, from the example stack, and exactly what `pulumi up` would do.

NEW stacks are Pulumi.dev.yaml with one edit (written to tmp_path); the change set is what
`homelab diff dev NEW` reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from diff.engine import Change
from tests.support import StackEdit, change_set, day2_changes, edited_stack

NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ5YhomelabOwnerKey me@laptop"
# Talos nodes are keyed by VM id (cp-1 201, worker-1 202, worker-2 203), not by their display names.
CP_1, WORKER_1, WORKER_2 = "vm-201", "vm-202", "vm-203"
APPLIES = {f"cluster-{node}-apply": "update" for node in (CP_1, WORKER_1, WORKER_2)}
# The rollout script on the client names the nodes and the versions: any change of them updates it.
ROLLOUT = {"cluster-upgrade-rollout": "update"}


def firewall(
    guest: str, action: str, parts: tuple[str, ...] = ("", "-ipfilter", "-rules", "-options")
) -> dict[str, str]:
    """A guest's firewall: its component and the options, IP set and rules under it."""
    return {f"{guest}-firewall{part}": action for part in parts}


def new_node(key: str) -> dict[str, str]:
    """Its VM, firewall and apply, and the command on the client whose delete will take it out of the cluster."""
    return {
        key: "create",
        f"{key}-vm": "create",
        **firewall(key, "create"),
        f"cluster-{key}-apply": "create",
        f"{key}-leave": "create",
    }


def _cluster(config: dict[str, Any]) -> dict[str, Any]:
    return config["homelab:cluster"]


def add_worker(config: dict[str, Any]) -> None:
    _cluster(config)["workers"].append({"name": "worker-3", "address": "192.168.1.205", "vmId": 205})


def remove_worker(config: dict[str, Any]) -> None:
    _cluster(config)["workers"].pop()


def add_ssh_key(config: dict[str, Any]) -> None:
    config["homelab:sshPublicKeys"] = [NEW_KEY]


def bump_talos(config: dict[str, Any]) -> None:
    _cluster(config)["talosVersion"] = "v1.13.10"


def bump_kubernetes(config: dict[str, Any]) -> None:
    _cluster(config)["kubernetesVersion"] = "1.36.4"


def move_pool(config: dict[str, Any]) -> None:
    config["homelab:loadBalancer"] = {"pool": "10.10.20.0/24", "ingressAddress": "10.10.20.10"}


def change_host(config: dict[str, Any]) -> None:
    config["homelab:site"]["host"] = "lab.example.org"


def change_replicas(config: dict[str, Any]) -> None:
    config["homelab:site"]["replicas"] = 3


def keep_fewer_backups(config: dict[str, Any]) -> None:
    config["homelab:backup"] = {"keep": 7, "schedule": "hourly"}


def copy_backups_to_s3(config: dict[str, Any]) -> None:
    s3 = {"endpoint": "https://s3.example.net", "bucket": "lab-backups", "accessKeyId": "AK", "secretAccessKey": "SK"}
    config["homelab:backup"] = {"target": {"s3": s3}}


def go_ha(config: dict[str, Any]) -> None:
    cluster = _cluster(config)
    cluster["vip"] = "192.168.1.210"
    cluster["controlPlanes"] += [
        {"name": "cp-2", "address": "192.168.1.206", "vmId": 206},
        {"name": "cp-3", "address": "192.168.1.207", "vmId": 207},
    ]


SCENARIOS: dict[str, tuple[StackEdit, dict[str, str]]] = {
    # The router gets the reservation, the client's talosconfig the node (and the renewal unit, which
    # writes the node list into each renewed talosconfig); the new VM and its apply.
    "add a worker": (
        add_worker,
        {
            "router-configure": "update",
            "talos-client-talosconfig": "update",
            "talos-client-lifecycle-timers": "update",
            **new_node("vm-205"),
            **ROLLOUT,
        },
    ),
    "remove a worker": (
        remove_worker,
        {
            "router-configure": "update",
            "talos-client-talosconfig": "update",
            "talos-client-lifecycle-timers": "update",
            # Deleted first (it depends on the apply and the VM): it drains worker-2 and deletes its Node.
            f"{WORKER_2}-leave": "delete",
            f"cluster-{WORKER_2}-apply": "delete",
            f"{WORKER_2}-vm": "delete",
            WORKER_2: "delete",
            **firewall(WORKER_2, "delete"),
            **ROLLOUT,
        },
    ),
    # Keys are part of a container's initialization, which bpg replaces; what configures them (their
    # configuration and their firewall) runs again. A new container is a new machine: a new host key,
    # installed at the new first contact, and every command pinned to the old key follows it.
    "add an SSH key": (
        add_ssh_key,
        {
            "router-container": "replace",
            "router-host-key-ed25519": "replace",
            "router-host-key-install": "replace",
            "router-configure": "replace",
            **firewall("router", "replace", ("-options",)),
            "talos-client-container": "replace",
            "talos-client-host-key-ed25519": "replace",
            "talos-client-host-key-install": "replace",
            **firewall("talos-client", "replace", ("-ipfilter", "-rules", "-options")),
            "talos-client-sshd-access": "replace",
            "talos-client-tools": "replace",
            "talos-client-talosconfig": "replace",
            "talos-client-kubeconfig": "replace",
            "talos-client-lifecycle-timers": "replace",
            # Commands on the client without replaceWith: a new pinned key in their connection. The
            # rollout and the webhook wait are idempotent, the leaves' and the marker's create only record
            # a script; the health gate ignores `connection` (Pulumi keeps an ignored input's old value even
            # when the new one is unknown).
            "cluster-upgrade-rollout": "update",
            "metallb-webhook-ready": "update",
            **{f"{node}-leave": "update" for node in (CP_1, WORKER_1, WORKER_2)},
            "cluster-membership-whole-lab": "update",
        },
    ),
    # New machine configs applied in place and the client's tools; no VM, ISO or container replaced.
    "bump Talos": (bump_talos, {"talos-client-tools": "update", **APPLIES, **ROLLOUT}),
    # The machine configs keep the running version: upgrade-k8s moves the nodes, in its order.
    "bump Kubernetes": (bump_kubernetes, {"talos-client-tools": "update", **ROLLOUT}),
    # Every node may announce the pool (its IP filter lists it); bpg replaces an IP set whose entries change.
    "move the pool and the ingress address": (
        move_pool,
        {
            "router-configure": "update",
            **{f"{node}-firewall-ipfilter": "replace" for node in (CP_1, WORKER_1, WORKER_2)},
            "metallb-webhook-ready": "update",
            "metallb-pool": "update",
            "traefik-release": "update",
        },
    ),
    # The router's DNS answers the host; a ConfigMap's data is immutable to pulumi-kubernetes: the page
    # is replaced, the Ingress updated.
    # The site certificate is reissued for the new host (its request's dnsNames and subject); the CA stays.
    "change the site host": (
        change_host,
        {
            "router-configure": "update",
            "example-site-page": "replace",
            "example-site-ingress": "update",
            "lab-ca-site-request": "replace",
            "lab-ca-site": "replace",
            "example-site-tls": "replace",
            "traefik-default-certificate": "replace",
        },
    ),
    "change the replicas": (change_replicas, {"example-site-deployment": "update"}),
    # Backup settings are the backup unit's environment and timer: only the timers' install runs again.
    "keep fewer backups, hourly": (keep_fewer_backups, {"talos-client-lifecycle-timers": "update"}),
    # An S3 target adds rclone and the unit's remote, and writes the credentials (a new command).
    "copy backups to S3": (
        copy_backups_to_s3,
        {"talos-client-lifecycle-timers": "update", "talos-client-lifecycle-offsite-credentials": "create"},
    ),
    # No guest is replaced (cp-1's IP filter is, to admit the VIP): two VMs and applies are created,
    # every machine config changes in place. The talos Kubeconfig keeps the kubeconfig it issued
    # (cp-1), so the provider and the Kubernetes objects stay. The client's timers learn the new
    # control planes (renewal and snapshots try each in turn).
    "1 to 3 control planes with a VIP": (
        go_ha,
        {
            "router-configure": "update",
            "talos-client-talosconfig": "update",
            "talos-client-lifecycle-timers": "update",
            f"{CP_1}-firewall-ipfilter": "replace",
            "cluster-kubeconfig": "update",
            **new_node("vm-206"),
            **new_node("vm-207"),
            # Every leave script names the control planes it asks etcd: recorded again, nothing run.
            **{f"{node}-leave": "update" for node in (CP_1, "vm-202", WORKER_2)},
            **APPLIES,
            **ROLLOUT,
        },
    ),
}


def scenario_changes(tmp_path: Path, name: str) -> list[Change]:
    edit, _ = SCENARIOS[name]
    return day2_changes(edited_stack(tmp_path, edit))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_changes_exactly_what_it_must(tmp_path: Path, name: str) -> None:
    _, expected = SCENARIOS[name]
    assert change_set(scenario_changes(tmp_path, name)) == expected


def test_configuration_re_pushes_are_updates_of_their_stdin(tmp_path: Path) -> None:
    changes = {c.name: c for c in scenario_changes(tmp_path, "add a worker")}
    assert changes["router-configure"].paths == ["stdin"]
    assert changes["talos-client-talosconfig"].paths == ["stdin"]  # a secret: compared, never shown


def test_a_removed_worker_is_reset_before_its_vm_goes(tmp_path: Path) -> None:
    names = [c.name for c in scenario_changes(tmp_path, "remove a worker") if c.action == "delete"]
    assert names.index(f"cluster-{WORKER_2}-apply") < names.index(f"{WORKER_2}-vm")


def test_a_new_ssh_key_replaces_the_containers_first_and_says_why(tmp_path: Path) -> None:
    changes = {c.name: c for c in scenario_changes(tmp_path, "add an SSH key")}
    for container in ("router-container", "talos-client-container"):
        change = changes[container]
        assert change.delete_before_replace, container
        assert change.paths == ["initialization.userAccount.keys[1]"]
        assert "user_account (keys, password) ForceNew" in change.reason
        assert "proxmoxtf/resource/container/container.go" in change.reason
    for name in ("router-configure", "router-host-key-ed25519", "router-host-key-install"):
        assert changes[name].reason == "replaced with router-container (replaceWith)", name
    for step in ("host-key-ed25519", "host-key-install", "sshd-access", "tools", "talosconfig", "kubeconfig"):
        assert changes[f"talos-client-{step}"].reason == "replaced with talos-client-container (replaceWith)"


def test_the_page_is_deleted_before_its_replacement_takes_its_name(tmp_path: Path) -> None:
    changes = {c.name: c for c in scenario_changes(tmp_path, "change the site host")}
    page = changes["example-site-page"]
    assert page.delete_before_replace
    assert page.paths == ["data.index.html"]
    for secret in ("example-site-tls", "traefik-default-certificate"):  # named, so deleted first too
        assert changes[secret].delete_before_replace
    assert changes["lab-ca-site-request"].paths == ["dnsNames[0]", "subject.commonName"]
    assert changes["lab-ca-site"].paths == ["certRequestPem"]


def test_only_the_replicas_change(tmp_path: Path) -> None:
    (deployment,) = scenario_changes(tmp_path, "change the replicas")
    assert deployment.paths == ["spec.replicas"]


def test_3_to_1_control_planes_takes_each_removed_one_out_before_its_vm(tmp_path: Path) -> None:
    """From the ha stack: cp-2 and cp-3 go. Their leave commands are deleted, and Pulumi deletes them first
    (they depend on the apply and the VM); the remaining nodes' leave scripts are recorded again."""

    def one_control_plane(config: dict[str, Any]) -> None:
        del _cluster(config)["controlPlanes"][1:]

    changes = change_set(day2_changes(edited_stack(tmp_path, one_control_plane, base="ha"), old="ha"))
    for node in ("vm-7012", "vm-7013"):  # cp-2, cp-3
        assert changes[f"{node}-leave"] == "delete"
        assert changes[f"{node}-vm"] == "delete"
        assert changes[f"cluster-{node}-apply"] == "delete"
    assert {name: action for name, action in changes.items() if name.endswith("-leave")} == {
        "vm-7012-leave": "delete",
        "vm-7013-leave": "delete",
        **{f"vm-{vm_id}-leave": "update" for vm_id in (7011, 7021, 7022, 7023, 7024, 7025)},
    }
    assert "cluster-membership-whole-lab" not in changes  # only `pulumi destroy` deletes it
