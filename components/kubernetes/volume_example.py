"""ExampleVolume: a one-pod StatefulSet that writes to a claim of the default StorageClass.

Live, `kubectl -n example-volume get pvc data-example-volume-0` shows it Bound, and the pod's
/data/writes.log gains a line on every start: the volume is writable and persists.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.storage_manifests import example_namespace, example_stateful_set


class ExampleVolume(pulumi.ComponentResource):
    def __init__(self, name: str, storage: pulumi.Resource, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:ExampleVolume", name, None, opts)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=example_namespace()["metadata"], opts=pulumi.ResourceOptions(parent=self)
        )
        manifest = example_stateful_set()
        # Its claim binds only once the driver runs and the StorageClass exists: it waits for the storage.
        k8s.apps.v1.StatefulSet(
            f"{name}-statefulset",
            metadata=manifest["metadata"],
            spec=manifest["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, storage]),
        )
        self.register_outputs({})
