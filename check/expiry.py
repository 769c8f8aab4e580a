"""Days to expiry of the certificates in a talosconfig and a kubeconfig (pure: text in, dates out).

Reads only each certificate's validity, from its DER encoding (RFC 5280: Certificate ->
tbsCertificate -> validity), so neither `homelab check` on a laptop nor the program needs a
crypto library for it. Nothing secret (keys) is read or kept.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

WARN_DAYS = 30
FAIL_DAYS = 7
_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*(?P<body>[A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----")
_SEQUENCE, _CONTEXT_0, _UTC_TIME, _GENERALIZED_TIME = 0x30, 0xA0, 0x17, 0x18


class ExpiryError(Exception):
    """A file that is not a talosconfig or kubeconfig, or a certificate that cannot be read."""


class Level(enum.Enum):
    OK = "ok"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Certificate:
    what: str
    """Which certificate of which file, in the file's words (context, cluster, user)."""
    not_after: datetime.datetime


@dataclass(frozen=True)
class Expiry:
    certificate: Certificate
    days_left: float
    level: Level

    @property
    def line(self) -> str:
        end = self.certificate.not_after.strftime("%Y-%m-%d %H:%M UTC")
        when = f"expired {-self.days_left:.0f} days ago" if self.days_left < 0 else f"{self.days_left:.0f} days left"
        return f"{self.certificate.what}: {when} (until {end})"


def assess(certificate: Certificate, now: datetime.datetime) -> Expiry:
    days = (certificate.not_after - now).total_seconds() / 86400
    level = Level.FAIL if days < FAIL_DAYS else Level.WARN if days < WARN_DAYS else Level.OK
    return Expiry(certificate, days, level)


def _element(data: bytes, offset: int) -> tuple[int, int, int]:
    """The DER element at `offset`: its tag, where its content starts and where it ends."""
    if offset + 2 > len(data):
        raise ValueError("truncated")
    tag, length = data[offset], data[offset + 1]
    start = offset + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or start + count > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    if start + length > len(data):
        raise ValueError("truncated")
    return tag, start, start + length


def _time(tag: int, value: bytes) -> datetime.datetime:
    text = value.decode("ascii")
    if tag == _UTC_TIME:  # YYMMDDHHMMSSZ; RFC 5280: 50-99 are 19xx
        year = int(text[:2])
        text = f"{1900 + year if year >= 50 else 2000 + year}{text[2:]}"
    elif tag != _GENERALIZED_TIME:
        raise ValueError("not a time")
    return datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=datetime.UTC)


def der_not_after(der: bytes) -> datetime.datetime:
    """A DER certificate's notAfter."""
    tag, start, _ = _element(der, 0)  # Certificate
    if tag != _SEQUENCE:
        raise ValueError("not a certificate")
    tag, offset, _ = _element(der, start)  # tbsCertificate
    if tag != _SEQUENCE:
        raise ValueError("not a certificate")
    tag, _, end = _element(der, offset)
    if tag == _CONTEXT_0:  # version
        offset = end
    for _field in ("serialNumber", "signature", "issuer"):
        _, _, offset = _element(der, offset)
    tag, start, _ = _element(der, offset)  # validity
    if tag != _SEQUENCE:
        raise ValueError("no validity")
    _, _, after_start = _element(der, start)  # notBefore
    tag, value_start, value_end = _element(der, after_start)
    return _time(tag, der[value_start:value_end])


def not_after(value: str) -> datetime.datetime:
    """notAfter of a certificate given as PEM, or as base64 of PEM (talosconfig `crt`, kubeconfig `*-data`)."""
    text = value
    if "-----BEGIN" not in text:
        try:
            text = base64.b64decode(value, validate=False).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ExpiryError("not a base64-encoded PEM certificate") from None
    match = _PEM.search(text)
    if match is None:
        raise ExpiryError("no PEM certificate")
    try:
        return der_not_after(base64.b64decode("".join(match["body"].split())))
    except (binascii.Error, ValueError, IndexError):
        raise ExpiryError("not a readable X.509 certificate") from None


def not_after_or_none(value: str | None) -> str | None:
    """notAfter as RFC 3339, or None when there is no readable certificate (as under `homelab plan`'s mocks)."""
    if not value:
        return None
    try:
        return not_after(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ExpiryError:
        return None


def _document(text: str, kind: str) -> Mapping[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ExpiryError(f"not a {kind} (not YAML)") from None
    if not isinstance(document, Mapping):
        raise ExpiryError(f"not a {kind} (expected a mapping)")
    return document


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _read(what: str, value: object) -> Certificate:
    if not isinstance(value, str):
        raise ExpiryError(f"{what}: not a certificate")
    try:
        return Certificate(what, not_after(value))
    except ExpiryError as error:
        raise ExpiryError(f"{what}: {error}") from None


def talosconfig_certificates(text: str) -> list[Certificate]:
    """Each context's client certificate (`crt`) and Talos API CA (`ca`)."""
    contexts = _mapping(_document(text, "talosconfig").get("contexts"))
    if not contexts:
        raise ExpiryError("not a talosconfig (no contexts)")
    found: list[Certificate] = []
    for name, context in contexts.items():
        entry = _mapping(context)
        if "crt" in entry:
            found.append(_read(f"talosconfig context {name}: client certificate", entry["crt"]))
        if "ca" in entry:
            found.append(_read(f"talosconfig context {name}: Talos API CA", entry["ca"]))
    return found


def kubeconfig_certificates(text: str) -> list[Certificate]:
    """Each user's client certificate and each cluster's CA, where the file embeds them."""
    document = _document(text, "kubeconfig")
    if document.get("kind") != "Config":
        raise ExpiryError("not a kubeconfig (kind is not Config)")
    found: list[Certificate] = []
    for user in _list(document.get("users")):
        data = _mapping(_mapping(user).get("user")).get("client-certificate-data")
        if data is not None:
            found.append(_read(f"kubeconfig user {_mapping(user).get('name')}: client certificate", data))
    for cluster in _list(document.get("clusters")):
        data = _mapping(_mapping(cluster).get("cluster")).get("certificate-authority-data")
        if data is not None:
            found.append(_read(f"kubeconfig cluster {_mapping(cluster).get('name')}: cluster CA", data))
    return found


def current_talos_client_certificate(text: str) -> str | None:
    """The current context's `crt` of a talosconfig, if it has one."""
    try:
        document = _document(text, "talosconfig")
    except ExpiryError:
        return None
    value = _mapping(_mapping(document.get("contexts")).get(str(document.get("context")))).get("crt")
    return value if isinstance(value, str) else None


def first_kube_client_certificate(text: str) -> str | None:
    try:
        users = _list(_document(text, "kubeconfig").get("users"))
    except ExpiryError:
        return None
    value = _mapping(_mapping(users[0]).get("user")).get("client-certificate-data") if users else None
    return value if isinstance(value, str) else None


def client_certificate_expiry(talosconfig: str, kubeconfig: str) -> dict[str, str | None]:
    """The `clientCertificateExpiry` stack output: when the exported files' client certificates end."""
    return {
        "talosconfig": not_after_or_none(current_talos_client_certificate(talosconfig)),
        "kubeconfig": not_after_or_none(first_kube_client_certificate(kubeconfig)),
    }
