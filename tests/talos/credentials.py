"""Certificates and talosconfig/kubeconfig files the tests make (cryptography), shaped like Talos' own."""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from pathlib import Path

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

UTC = datetime.UTC


@dataclass(frozen=True)
class Issued:
    certificate: bytes  # PEM
    key: bytes  # PEM


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(parts)


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def make_ca(common_name: str, days: float, now: datetime.datetime | None = None) -> Issued:
    now = now or datetime.datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Issued(certificate.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def issue(ca: Issued, common_name: str, days: float, organization: str | None = None) -> Issued:
    """A client certificate signed by `ca`, valid for `days` from now (negative: expired that long ago)."""
    now = datetime.datetime.now(UTC)
    ca_key = serialization.load_pem_private_key(ca.key, None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    issuer = x509.load_pem_x509_certificate(ca.certificate).subject
    key = ec.generate_private_key(ec.SECP256R1())
    end = now + datetime.timedelta(days=days)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organization))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(min(now, end) - datetime.timedelta(days=1))
        .not_valid_after(end)
        .sign(ca_key, hashes.SHA256())
    )
    return Issued(certificate.public_bytes(serialization.Encoding.PEM), _pem_key(key))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def talosconfig_text(ca: Issued, client: Issued, endpoints: list[str], context: str = "homelab") -> str:
    """A talosconfig as talosctl and the Talos provider write it (Go YAML, four-space indents), with a second,
    unrelated context listed first so the current one must be found by name."""
    other = issue(ca, "other", 400, "os:reader")
    listed = "".join(f"\n            - {endpoint}" for endpoint in endpoints)
    return (
        f"context: {context}\n"
        "contexts:\n"
        "    aaa-other:\n"
        "        endpoints:\n            - 10.0.0.1\n"
        f"        ca: {b64(ca.certificate)}\n"
        f"        crt: {b64(other.certificate)}\n"
        f"        key: {b64(other.key)}\n"
        f"    {context}:\n"
        f"        endpoints:{listed}\n"
        f"        nodes:{listed}\n"
        f"        ca: {b64(ca.certificate)}\n"
        f"        crt: {b64(client.certificate)}\n"
        f"        key: {b64(client.key)}\n"
    )


def kubeconfig_text(ca: Issued, client: Issued, server: str = "https://192.168.1.201:6443") -> str:
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "homelab", "cluster": {"server": server, "certificate-authority-data": b64(ca.certificate)}}
        ],
        "users": [
            {
                "name": "admin@homelab",
                "user": {"client-certificate-data": b64(client.certificate), "client-key-data": b64(client.key)},
            }
        ],
        "contexts": [{"name": "admin@homelab", "context": {"cluster": "homelab", "user": "admin@homelab"}}],
        "current-context": "admin@homelab",
    }
    return yaml.safe_dump(document, sort_keys=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path
