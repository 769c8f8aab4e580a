"""Registering a rendered manifest as the Kubernetes resource of its kind.

The built-in kinds the program creates are registered exactly as the SDK's typed
classes (`k8s.core.v1.Namespace`, `k8s.apps.v1.Deployment`, ...) register them: the
same type token, inputs, aliases and provider version, so the engine and the provider
cannot tell the difference (`tests/test_kubernetes_objects.py` compares the two).
Other kinds (CRDs) are registered as `k8s.apiextensions.CustomResource` registers them.
The SDK's classes are not imported because `pulumi_kubernetes.core.v1` loads every core
kind and 2.5 MB of input types on import: 0.2 s, as long as the rest of `homelab plan`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

# The SDK's own defaults for its resources (the provider version); its typed classes use the same.
from pulumi_kubernetes import _utilities  # pyright: ignore[reportPrivateUsage]

Manifest = dict[str, Any]


@dataclass(frozen=True)
class BuiltInKind:
    type_token: str
    aliases: tuple[str, ...] = ()
    """Earlier API versions of the kind, as the SDK's typed class declares them."""


# (apiVersion, kind) -> how pulumi-kubernetes 4.x types it.
BUILT_IN_KINDS: dict[tuple[str, str], BuiltInKind] = {
    ("v1", "Namespace"): BuiltInKind("kubernetes:core/v1:Namespace"),
    ("v1", "ConfigMap"): BuiltInKind("kubernetes:core/v1:ConfigMap"),
    ("v1", "Service"): BuiltInKind("kubernetes:core/v1:Service"),
    ("apps/v1", "Deployment"): BuiltInKind(
        "kubernetes:apps/v1:Deployment",
        (
            "kubernetes:apps/v1beta1:Deployment",
            "kubernetes:apps/v1beta2:Deployment",
            "kubernetes:extensions/v1beta1:Deployment",
        ),
    ),
    ("networking.k8s.io/v1", "Ingress"): BuiltInKind(
        "kubernetes:networking.k8s.io/v1:Ingress",
        ("kubernetes:extensions/v1beta1:Ingress", "kubernetes:networking.k8s.io/v1beta1:Ingress"),
    ),
}


def sdk_resource_options(opts: pulumi.ResourceOptions | None = None) -> pulumi.ResourceOptions:
    """`opts` over the SDK's defaults (provider version, plugin URL), as its typed classes merge them."""
    return pulumi.ResourceOptions.merge(_utilities.get_resource_opts_defaults(), opts)


class KubernetesObject(pulumi.CustomResource):
    """A Kubernetes object from its manifest, registered as the SDK registers its kind.

    A built-in kind as its typed class (`k8s.core.v1.Namespace`, ...) does; any other kind
    (a CRD's) as `k8s.apiextensions.CustomResource` does, under `kubernetes:<apiVersion>:<kind>`.
    The manifest's top-level fields are the inputs.
    """

    def __init__(self, name: str, manifest: Manifest, opts: pulumi.ResourceOptions | None = None) -> None:
        api_version, kind = manifest["apiVersion"], manifest["kind"]
        built_in = BUILT_IN_KINDS.get((api_version, kind))
        options = sdk_resource_options(opts)
        if built_in is None:
            type_token = f"kubernetes:{api_version}:{kind}"
        else:
            type_token = built_in.type_token
            if built_in.aliases:
                aliases: list[pulumi.Input[str | pulumi.Alias]] = [
                    pulumi.Alias(type_=alias) for alias in built_in.aliases
                ]
                options = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(aliases=aliases))
        super().__init__(type_token, name, dict(manifest), options)


def create_object(name: str, manifest: Manifest, opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The manifest as a Kubernetes resource (built-in kind or CRD)."""
    return KubernetesObject(name, manifest, opts)
