"""Day 2: each change a lab owner makes, from the example stack, and exactly what `pulumi up` would do.

NEW stacks are Pulumi.dev.yaml with one edit (written to tmp_path); the change set is what
`homelab diff dev NEW` reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plan.diff import Change
from tests.support import StackEdit, change_set, day2_changes, edited_stack

NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ5YhomelabOwnerKey me@laptop"
APPLIES = {"cluster-cp-1-apply": "update", "cluster-worker-1-apply": "update", "cluster-worker-2-apply": "update"}
# The rollout script on the client names the nodes and the versions: any change of them updates it.
ROLLOUT = {"cluster-upgrade-rollout": "update"}


def firewall(
    guest: str, action: str, parts: tuple[str, ...] = ("", "-ipfilter", "-rules", "-options")
) -> dict[str, str]:
    """A guest's firewall: its component and the options, IP set and rules under it."""
    return {f"{guest}-firewall{part}": action for part in parts}


def new_node(name: str) -> dict[str, str]:
    return {name: "create", f"{name}-vm": "create", **firewall(name, "create"), f"cluster-{name}-apply": "create"}


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


def go_ha(config: dict[str, Any]) -> None:
    cluster = _cluster(config)
    cluster["vip"] = "192.168.1.210"
    cluster["controlPlanes"] += [
        {"name": "cp-2", "address": "192.168.1.206", "vmId": 206},
        {"name": "cp-3", "address": "192.168.1.207", "vmId": 207},
    ]


SCENARIOS: dict[str, tuple[StackEdit, dict[str, str]]] = {
    # The router gets the reservation, the client's talosconfig the node; the new VM and its apply.
    "add a worker": (
        add_worker,
        {"router-configure": "update", "talos-client-talosconfig": "update", **new_node("worker-3"), **ROLLOUT},
    ),
    "remove a worker": (
        remove_worker,
        {
            "router-configure": "update",
            "talos-client-talosconfig": "update",
            "cluster-worker-2-apply": "delete",
            "worker-2-vm": "delete",
            "worker-2": "delete",
            **firewall("worker-2", "delete"),
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
            # Commands on the client without replaceWith: a new pinned key in their connection. The
            # rollout and the webhook wait are idempotent; the health gate ignores `connection` (Pulumi
            # keeps the old value of an ignored input even when the new one is unknown, which the diff
            # engine does not model yet: it still lists it).
            "cluster-upgrade-rollout": "update",
            "metallb-webhook-ready": "update",
            "talos-client-health": "update",
        },
    ),
    # New machine configs applied in place and the client's tools; no VM, ISO or container replaced.
    "bump Talos": (bump_talos, {"talos-client-tools": "update", **APPLIES, **ROLLOUT}),
    "bump Kubernetes": (bump_kubernetes, {"talos-client-tools": "update", **APPLIES, **ROLLOUT}),
    # Every node may announce the pool (its IP filter lists it); bpg replaces an IP set whose entries change.
    "move the pool and the ingress address": (
        move_pool,
        {
            "router-configure": "update",
            **{f"{node}-firewall-ipfilter": "replace" for node in ("cp-1", "worker-1", "worker-2")},
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
    # No guest is replaced (cp-1's IP filter is, to admit the VIP): two VMs and applies are created,
    # every machine config changes in place. The talos Kubeconfig keeps the kubeconfig it issued
    # (cp-1), so the provider and the Kubernetes objects stay.
    "1 to 3 control planes with a VIP": (
        go_ha,
        {
            "router-configure": "update",
            "talos-client-talosconfig": "update",
            "cp-1-firewall-ipfilter": "replace",
            "cluster-kubeconfig": "update",
            **new_node("cp-2"),
            **new_node("cp-3"),
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
    assert names.index("cluster-worker-2-apply") < names.index("worker-2-vm")


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
