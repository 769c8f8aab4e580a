"""Storage: the Proxmox CSI plugin and the lab's default StorageClass."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.helm_release import RELEASE_TIMEOUT_SECONDS
from components.kubernetes.storage_manifests import (
    CONFIG_KEY,
    CSI_CHART,
    config_secret,
    csi_namespace,
    csi_values,
    plugin_config,
    storage_class,
)


@dataclass(frozen=True)
class StorageArgs:
    region: str
    """The Proxmox cluster, as the nodes' `topology.kubernetes.io/region` labels name it."""
    api_url: str
    """The Proxmox API as the plugin reaches it from the lab."""
    insecure_tls: bool
    storage_class: str
    datastore: str
    fs_type: str
    reclaim_policy: str
    token_id: pulumi.Input[str]
    token_secret: pulumi.Input[str]


class Storage(pulumi.ComponentResource):
    """The plugin's namespace, config Secret and release, and the StorageClass.

    It waits for nothing but the cluster (its provider): not for MetalLB or Traefik. Depend on the
    component itself to wait for the driver.
    """

    storage_class: str

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:Storage", name, None, opts)
        self.storage_class = args.storage_class
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=csi_namespace()["metadata"], opts=pulumi.ResourceOptions(parent=self)
        )
        text = pulumi.Output.all(args.token_id, args.token_secret).apply(
            lambda token: plugin_config(
                url=args.api_url,
                token_id=str(token[0]),
                token_secret=str(token[1]),
                region=args.region,
                insecure=args.insecure_tls,
            )
        )
        manifest = config_secret()
        # `data`, not `stringData`: see lab_ca.tls_secret.
        secret = k8s.core.v1.Secret(
            f"{name}-config",
            metadata=manifest["metadata"],
            type=manifest["type"],
            data=pulumi.Output.secret(
                text.apply(lambda config: {CONFIG_KEY: base64.b64encode(config.encode()).decode()})
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        # A SHA-256 of the config reveals nothing of the token (a random UUID) and must not make the whole
        # of the release's values secret; the chart puts the same digest of its own config in the pod template.
        checksum = pulumi.Output.unsecret(text.apply(lambda config: hashlib.sha256(config.encode()).hexdigest()))
        release = k8s.helm.v3.Release(
            f"{name}-release",
            k8s.helm.v3.ReleaseArgs(
                name=CSI_CHART.release_name,
                chart=CSI_CHART.chart,
                version=CSI_CHART.version,
                namespace=CSI_CHART.namespace,
                create_namespace=False,
                values=checksum.apply(lambda digest: csi_values(args.region, digest)),
                atomic=True,
                cleanup_on_fail=True,
                timeout=RELEASE_TIMEOUT_SECONDS,
            ),
            # The controller mounts the config Secret: without it the pod never starts.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, secret]),
        )
        self.release = release
        klass = storage_class(
            name=args.storage_class,
            datastore=args.datastore,
            fs_type=args.fs_type,
            reclaim_policy=args.reclaim_policy,
        )
        k8s.storage.v1.StorageClass(
            f"{name}-class",
            metadata=klass["metadata"],
            provisioner=klass["provisioner"],
            parameters=klass["parameters"],
            reclaim_policy=klass["reclaimPolicy"],
            volume_binding_mode=klass["volumeBindingMode"],
            allow_volume_expansion=klass["allowVolumeExpansion"],
            # The API server refuses to update these as well as the parameters (kubernetes
            # pkg/apis/storage/validation/validation.go ValidateStorageClassUpdate); pulumi-kubernetes replaces
            # only on parameters and provisioner (provider/pkg/provider/diff.go), so a change replaces it here.
            opts=pulumi.ResourceOptions(parent=self, replace_on_changes=["reclaimPolicy", "volumeBindingMode"]),
        )
        self.register_outputs({"storageClass": self.storage_class})
