"""Kubernetes objects the program creates directly, as plain manifests (pure, DESIGN §3).

MetalLB's namespace and address pool, and the example site: a static page
served by nginx behind `example-service`, routed by Traefik for `site.host`.
"""

from __future__ import annotations

import html
from typing import Any

from components.kubernetes.helm_values import (
    DEFAULT_CERTIFICATE_SECRET,
    HTTP_ENTRY_POINT,
    HTTPS_ENTRY_POINT,
    INGRESS_CLASS,
    METALLB_CHART,
    TRAEFIK_CHART,
)
from config.models import SiteConfig

Manifest = dict[str, Any]

METALLB_NAMESPACE = METALLB_CHART.namespace
POOL_NAME = "lab-pool"
L2_ADVERTISEMENT_NAME = "lab-l2"

SITE_NAMESPACE = "example-site"
SITE_NAME = "example-site"
PAGE_NAME = "example-site-page"
SERVICE_NAME = "example-service"
SERVICE_PORT = 80
SITE_TLS_SECRET = "example-site-tls"
TLS_SECRET_TYPE = "kubernetes.io/tls"
# nginx-unprivileged (Docker Hub nginxinc/nginx-unprivileged, nginx 1.30 stable) runs
# as uid/gid 101 and listens on 8080, so the pod passes Pod Security "restricted".
SITE_IMAGE = "nginxinc/nginx-unprivileged:1.30.4-alpine"
SITE_UID = 101
CONTAINER_PORT = 8080
HTML_DIR = "/usr/share/nginx/html"

# Without `router.tls`, Traefik gives the router TLS only on websecure (from that
# entry point's TLS); with it, the router ignores plain HTTP on web as well. The
# Ingress's `tls` only adds its Secret's certificate to Traefik's store, served by
# SNI; it sets no router TLS (traefik v3.7 pkg/provider/kubernetes/ingress/kubernetes.go:
# `loadRouter` takes `rt.TLS` from the annotations alone, `getCertificates` reads `spec.tls`).
INGRESS_ANNOTATIONS = {
    "traefik.ingress.kubernetes.io/router.entrypoints": f"{HTTP_ENTRY_POINT},{HTTPS_ENTRY_POINT}",
}

_COMMON_LABELS = {"app.kubernetes.io/part-of": "homelab", "app.kubernetes.io/managed-by": "pulumi"}
_SITE_SELECTOR = {"app.kubernetes.io/name": SITE_NAME}
_SITE_LABELS = {**_SITE_SELECTOR, **_COMMON_LABELS}


# What Pod Security's `restricted` level asks of every container (the site's and the example volume's).
RESTRICTED_CONTAINER: dict[str, object] = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _pod_security(level: str) -> dict[str, str]:
    return {f"pod-security.kubernetes.io/{mode}": level for mode in ("enforce", "audit", "warn")}


def _metadata(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["labels"] = dict(labels)
    return metadata


def _namespace(name: str, pod_security_level: str) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": _metadata(name, None, {**_COMMON_LABELS, **_pod_security(pod_security_level)}),
    }


def metallb_namespace() -> Manifest:
    """The speaker needs host networking and NET_RAW; Talos enforces "baseline" by default."""
    return _namespace(METALLB_NAMESPACE, "privileged")


def ip_address_pool(pool: str) -> Manifest:
    return {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "IPAddressPool",
        "metadata": _metadata(POOL_NAME, METALLB_NAMESPACE, _COMMON_LABELS),
        "spec": {"addresses": [pool]},
    }


def l2_advertisement() -> Manifest:
    return {
        "apiVersion": "metallb.io/v1beta1",
        "kind": "L2Advertisement",
        "metadata": _metadata(L2_ADVERTISEMENT_NAME, METALLB_NAMESPACE, _COMMON_LABELS),
        "spec": {"ipAddressPools": [POOL_NAME]},
    }


def site_namespace() -> Manifest:
    return _namespace(SITE_NAMESPACE, "restricted")


def page_html(host: str) -> str:
    name = html.escape(host)
    return (
        "<!doctype html>\n"
        '<html lang="en">\n'
        f'<head><meta charset="utf-8"><title>{name}</title></head>\n'
        "<body>\n"
        f"<h1>{name}</h1>\n"
        "<p>Served by nginx on the homelab Talos cluster, through MetalLB and Traefik.</p>\n"
        "</body>\n"
        "</html>\n"
    )


def site_page(site: SiteConfig) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(PAGE_NAME, SITE_NAMESPACE, _SITE_LABELS),
        "data": {"index.html": page_html(site.host)},
    }


def _container() -> dict[str, Any]:
    return {
        "name": "nginx",
        "image": SITE_IMAGE,
        "ports": [{"name": "http", "containerPort": CONTAINER_PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/", "port": "http"}, "periodSeconds": 5},
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
        "securityContext": dict(RESTRICTED_CONTAINER),
        "volumeMounts": [
            {"name": "page", "mountPath": HTML_DIR, "readOnly": True},
            # nginx-unprivileged keeps its pid file and temp files in /tmp.
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def site_deployment(site: SiteConfig) -> Manifest:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(SITE_NAME, SITE_NAMESPACE, _SITE_LABELS),
        "spec": {
            "replicas": site.replicas,
            "selector": {"matchLabels": dict(_SITE_SELECTOR)},
            "template": {
                "metadata": {"labels": dict(_SITE_LABELS)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": SITE_UID,
                        "runAsGroup": SITE_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [_container()],
                    "volumes": [
                        {"name": "page", "configMap": {"name": PAGE_NAME}},
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }


def site_service() -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(SERVICE_NAME, SITE_NAMESPACE, _SITE_LABELS),
        "spec": {
            "type": "ClusterIP",
            "selector": dict(_SITE_SELECTOR),
            "ports": [{"name": "http", "port": SERVICE_PORT, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _tls_secret(name: str, namespace: str, labels: dict[str, str]) -> Manifest:
    """A `kubernetes.io/tls` Secret without its data (the certificate and key come from the state)."""
    metadata = _metadata(name, namespace, labels)
    return {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "type": TLS_SECRET_TYPE}


def site_tls_secret() -> Manifest:
    """The certificate the Ingress names for its host, beside it (Ingress `tls` is namespace-local)."""
    return _tls_secret(SITE_TLS_SECRET, SITE_NAMESPACE, _SITE_LABELS)


def default_certificate_secret() -> Manifest:
    """Traefik's default certificate (its TLSStore `default`), served for any other name or a bare address."""
    return _tls_secret(DEFAULT_CERTIFICATE_SECRET, TRAEFIK_CHART.namespace, _COMMON_LABELS)


def site_ingress(site: SiteConfig) -> Manifest:
    metadata = _metadata(SITE_NAME, SITE_NAMESPACE, _SITE_LABELS)
    metadata["annotations"] = dict(INGRESS_ANNOTATIONS)
    backend = {"service": {"name": SERVICE_NAME, "port": {"number": SERVICE_PORT}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {
            "ingressClassName": INGRESS_CLASS,
            "rules": [
                {
                    "host": site.host,
                    "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
                }
            ],
            "tls": [{"hosts": [site.host], "secretName": SITE_TLS_SECRET}],
        },
    }
