"""The Proxmox CSI plugin: chart coordinates, Helm values, its config file, the StorageClass and the
example volume (pure, DESIGN §3 "Storage").

Chart proxmox-csi-plugin 0.5.9 (app v0.19.1); its sources, for `helm template` in the tests, are in
`<shared>/charts/proxmox-csi-plugin-0.5.9`. It has no values.schema.json: the tests check the values
against the keys of its values.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from components.kubernetes.manifests import RESTRICTED_CONTAINER
from config.storage import VOLUME_OWNER_VM_ID

Manifest = dict[str, Any]


@dataclass(frozen=True)
class OciChart:
    release_name: str
    chart: str
    """An `oci://` reference: helm pulls it from the registry, no repository."""
    version: str
    namespace: str


# Pinned: chart 0.5.9 ships app v0.19.1, whose documented role and config format the program follows.
CSI_CHART = OciChart(
    release_name="proxmox-csi-plugin",
    chart="oci://ghcr.io/sergelogvinov/charts/proxmox-csi-plugin",
    version="0.5.9",
    namespace="csi-proxmox",
)
CHART_NAME = "proxmox-csi-plugin"
# The chart's `provisionerName`, which "cannot be customized" (its values.yaml).
PROVISIONER = "csi.proxmox.sinextra.dev"
CONFIG_SECRET = "proxmox-csi-config"
CONFIG_KEY = "config.yaml"
# Not the chart's own `checksum/config`, which it computes from `.Values.config` (empty here).
CONFIG_CHECKSUM_ANNOTATION = "homelab/config-checksum"
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"
TOPOLOGY_REGION = "topology.kubernetes.io/region"
CONTROL_PLANE_LABEL = "node-role.kubernetes.io/control-plane"

EXAMPLE_NAMESPACE = "example-volume"
EXAMPLE_NAME = "example-volume"
EXAMPLE_CLAIM = "data"
EXAMPLE_SIZE = "1Gi"
EXAMPLE_FILE = "/data/writes.log"
# Docker Hub's official busybox; nobody (65534) owns the volume through fsGroup.
EXAMPLE_IMAGE = "busybox:1.37.0"
EXAMPLE_UID = 65534

_COMMON_LABELS = {"app.kubernetes.io/part-of": "homelab", "app.kubernetes.io/managed-by": "pulumi"}
_EXAMPLE_SELECTOR = {"app.kubernetes.io/name": EXAMPLE_NAME}


def _namespace(name: str, level: str) -> Manifest:
    labels = {
        **_COMMON_LABELS,
        **{f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")},
    }
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def csi_namespace() -> Manifest:
    """The node plugin is privileged (it mounts block devices); Talos enforces "baseline" by default."""
    return _namespace(CSI_CHART.namespace, "privileged")


def csi_values(region: str, config_checksum: str) -> dict[str, Any]:
    """The config from the program's Secret; the controller on the control planes, the node plugin on every
    node of the region.

    The controller reads its config once, at start; the checksum in its pod template rolls it when the
    Secret changes (a new token), as the chart does for a config given in its values.

    Upstream's Talos values select nodes by `node.cloudprovider.kubernetes.io/platform`, which only a cloud
    controller manager sets; this lab labels its nodes' topology in their machine configs instead, so the
    node plugin selects on the region label those configs set. The StorageClass is the program's own.
    """
    return {
        "existingConfigSecret": CONFIG_SECRET,
        "existingConfigSecretKey": CONFIG_KEY,
        "controller": {"podAnnotations": {CONFIG_CHECKSUM_ANNOTATION: config_checksum}},
        "nodeSelector": {CONTROL_PLANE_LABEL: ""},
        "tolerations": [{"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}],
        "node": {"nodeSelector": {TOPOLOGY_REGION: region}, "tolerations": [{"operator": "Exists"}]},
        "storageClass": [],
    }


def config_secret() -> Manifest:
    """The plugin's config Secret without its data (the token comes from the state)."""
    metadata = {"name": CONFIG_SECRET, "namespace": CSI_CHART.namespace, "labels": dict(_COMMON_LABELS)}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": "Opaque"}


def plugin_config(*, url: str, token_id: str, token_secret: str, region: str, insecure: bool) -> str:
    """The plugin's config.yaml (proxmox-csi-plugin v0.19.1 docs/config.md, pkg/config/config.go).

    The owner id of its volumes is written out, not left to the plugin's default, because the program's
    promise that no guest deletion frees a volume rests on it (config.storage).
    """
    document = {
        "features": {"provider": "default", "controllerVmID": VOLUME_OWNER_VM_ID},
        "clusters": [
            {"url": url, "insecure": insecure, "token_id": token_id, "token_secret": token_secret, "region": region}
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


def storage_class(*, name: str, datastore: str, fs_type: str, reclaim_policy: str) -> Manifest:
    """The default StorageClass; parameters as the chart's own template writes them (templates/_storage.tpl).

    `WaitForFirstConsumer`: a local datastore's volume must be created on the host of the node the pod
    is scheduled to (the chart's default for the same reason).
    """
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": name, "labels": dict(_COMMON_LABELS), "annotations": {DEFAULT_CLASS_ANNOTATION: "true"}},
        "provisioner": PROVISIONER,
        "parameters": {"csi.storage.k8s.io/fstype": fs_type, "storage": datastore},
        "reclaimPolicy": reclaim_policy,
        "volumeBindingMode": "WaitForFirstConsumer",
        "allowVolumeExpansion": True,
    }


def example_namespace() -> Manifest:
    return _namespace(EXAMPLE_NAMESPACE, "restricted")


def _example_container() -> dict[str, Any]:
    return {
        "name": "writer",
        "image": EXAMPLE_IMAGE,
        # One line per start: the file grows across restarts and reschedules only if the volume persists.
        "command": ["sh", "-c", f"date -u >> {EXAMPLE_FILE} && exec sleep 2147483647"],
        "readinessProbe": {"exec": {"command": ["test", "-s", EXAMPLE_FILE]}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"cpu": "50m", "memory": "16Mi"}},
        "securityContext": dict(RESTRICTED_CONTAINER),
        "volumeMounts": [{"name": EXAMPLE_CLAIM, "mountPath": "/data"}],
    }


def example_stateful_set() -> Manifest:
    """One pod writing to a claim of the default class (no `storageClassName`: the default is what it proves).

    Claims outlive the StatefulSet (`Retain` on delete and scale-down, Kubernetes' default, written out).
    """
    labels = {**_EXAMPLE_SELECTOR, **_COMMON_LABELS}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": EXAMPLE_NAME, "namespace": EXAMPLE_NAMESPACE, "labels": dict(labels)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": dict(_EXAMPLE_SELECTOR)},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
            "template": {
                "metadata": {"labels": dict(labels)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": EXAMPLE_UID,
                        "runAsGroup": EXAMPLE_UID,
                        "fsGroup": EXAMPLE_UID,
                        "fsGroupChangePolicy": "OnRootMismatch",
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [_example_container()],
                },
            },
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": EXAMPLE_CLAIM, "labels": dict(labels)},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": EXAMPLE_SIZE}}},
                }
            ],
        },
    }


def example_claim_name() -> str:
    """The claim of the StatefulSet's first pod, as Kubernetes names it (`<template>-<set>-<ordinal>`)."""
    return f"{EXAMPLE_CLAIM}-{EXAMPLE_NAME}-0"
