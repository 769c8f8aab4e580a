"""Registering a rendered manifest as the matching typed Kubernetes resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

Manifest = dict[str, Any]

_TYPED: dict[tuple[str, str], Callable[..., pulumi.CustomResource]] = {
    ("v1", "Namespace"): lambda name, m, opts: k8s.core.v1.Namespace(name, metadata=m["metadata"], opts=opts),
    ("v1", "ConfigMap"): lambda name, m, opts: k8s.core.v1.ConfigMap(
        name, metadata=m["metadata"], data=m.get("data"), opts=opts
    ),
    ("v1", "Service"): lambda name, m, opts: k8s.core.v1.Service(
        name, metadata=m["metadata"], spec=m["spec"], opts=opts
    ),
    ("apps/v1", "Deployment"): lambda name, m, opts: k8s.apps.v1.Deployment(
        name, metadata=m["metadata"], spec=m["spec"], opts=opts
    ),
    ("networking.k8s.io/v1", "Ingress"): lambda name, m, opts: k8s.networking.v1.Ingress(
        name, metadata=m["metadata"], spec=m["spec"], opts=opts
    ),
}


def create_object(name: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """A typed resource for core kinds, a CustomResource for everything else (CRDs)."""
    typed = _TYPED.get((manifest["apiVersion"], manifest["kind"]))
    if typed is not None:
        return typed(name, manifest, opts)
    return k8s.apiextensions.CustomResource(
        name,
        api_version=manifest["apiVersion"],
        kind=manifest["kind"],
        metadata=manifest["metadata"],
        spec=manifest.get("spec"),
        opts=opts,
    )
