"""A pinned Helm release from a chart's upstream repository."""

from __future__ import annotations

from typing import Any

import pulumi

from components.kubernetes.helm_values import HelmChart
from components.kubernetes.objects import sdk_resource_options

RELEASE_TYPE = "kubernetes:helm.sh/v3:Release"


class HelmRelease(pulumi.CustomResource):
    """`k8s.helm.v3.Release`, registered exactly as the SDK's typed class registers it.

    Release (not Chart) waits until the workloads are ready, which the objects built on it
    need. The typed class is not imported for the reason given in `components.kubernetes.objects`
    (`pulumi_kubernetes.helm.v3` pulls in the v3 Chart machinery and `requests`); the inputs
    below are the ones it sends, camelCase, with its constant `compat: "true"`.
    """

    def __init__(
        self, name: str, chart: HelmChart, values: dict[str, Any], opts: pulumi.ResourceOptions, create_namespace: bool
    ) -> None:
        inputs: dict[str, Any] = {
            "name": chart.release_name,
            "chart": chart.chart,
            "version": chart.version,
            "repositoryOpts": {"repo": chart.repository},
            "namespace": chart.namespace,
            "createNamespace": create_namespace,
            "values": values,
            "atomic": True,
            "cleanupOnFail": True,
            "timeout": 600,
            "compat": "true",
        }
        super().__init__(RELEASE_TYPE, name, inputs, sdk_resource_options(opts))


def helm_release(
    name: str, chart: HelmChart, values: dict[str, Any], opts: pulumi.ResourceOptions, create_namespace: bool
) -> HelmRelease:
    return HelmRelease(name, chart, values, opts, create_namespace)
