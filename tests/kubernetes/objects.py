"""The Kubernetes objects the program creates directly, by name, rendered from a stack's config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.kubernetes.manifests import (
    default_certificate_secret,
    ip_address_pool,
    l2_advertisement,
    metallb_namespace,
    site_deployment,
    site_ingress,
    site_namespace,
    site_page,
    site_service,
    site_tls_secret,
)
from components.kubernetes.storage_manifests import (
    config_secret,
    csi_namespace,
    example_namespace,
    example_stateful_set,
    storage_class,
)
from config.models import LabConfig
from config.storage import volume_datastore

Manifest = dict[str, Any]
Render = Callable[[LabConfig], Manifest]

BUILT_IN: dict[str, Render] = {
    "metallb-namespace": lambda _config: metallb_namespace(),
    "site-namespace": lambda _config: site_namespace(),
    "site-page": lambda config: site_page(config.site),
    "site-deployment": lambda config: site_deployment(config.site),
    "site-service": lambda _config: site_service(),
    "site-ingress": lambda config: site_ingress(config.site),
    "site-tls-secret": lambda _config: site_tls_secret(),
    "default-certificate-secret": lambda _config: default_certificate_secret(),
    "csi-namespace": lambda _config: csi_namespace(),
    "csi-config-secret": lambda _config: config_secret(),
    "storage-class": lambda config: storage_class(
        name=config.storage.storage_class,
        datastore=volume_datastore(config),
        fs_type=config.storage.fs_type,
        reclaim_policy=config.storage.reclaim_policy,
    ),
    "example-volume-namespace": lambda _config: example_namespace(),
    "example-volume-statefulset": lambda _config: example_stateful_set(),
}
CUSTOM: dict[str, tuple[Render, str]] = {
    "ip-address-pool": (
        lambda config: ip_address_pool(str(config.load_balancer.pool)),
        "metallb-0.16.1.ipaddresspools.crd.yaml",
    ),
    "l2-advertisement": (lambda _config: l2_advertisement(), "metallb-0.16.1.l2advertisements.crd.yaml"),
}
ALL: dict[str, Render] = {**BUILT_IN, **{name: render for name, (render, _) in CUSTOM.items()}}
