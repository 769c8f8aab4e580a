"""A pinned Helm release from a chart's upstream repository."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes.helm_values import HelmChart

RELEASE_TIMEOUT_SECONDS = 600


def helm_release(
    name: str, chart: HelmChart, values: dict[str, Any], *, create_namespace: bool, opts: pulumi.ResourceOptions
) -> k8s.helm.v3.Release:
    """`helm.v3.Release` (not Chart): it waits until the workloads are ready, which what comes next needs."""
    return k8s.helm.v3.Release(
        name,
        k8s.helm.v3.ReleaseArgs(
            name=chart.release_name,
            chart=chart.chart,
            version=chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
            namespace=chart.namespace,
            create_namespace=create_namespace,
            values=values,
            atomic=True,
            cleanup_on_fail=True,
            timeout=RELEASE_TIMEOUT_SECONDS,
        ),
        opts=opts,
    )
