"""A pinned Helm release from a chart's upstream repository."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.helm_values import HelmChart


def helm_release(
    name: str, chart: HelmChart, values: dict[str, Any], opts: pulumi.ResourceOptions, create_namespace: bool
) -> k8s.helm.v3.Release:
    # Release (not Chart) waits until the workloads are ready, which the objects built on it need.
    return k8s.helm.v3.Release(
        name,
        name=chart.release_name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=chart.namespace,
        create_namespace=create_namespace,
        values=values,
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        opts=opts,
    )
