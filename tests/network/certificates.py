"""Certificates made here the way the TLS provider makes them from the program's profiles.

What `pulumi_tls` (hashicorp/terraform-provider-tls v4.2.1, Go's crypto/x509) puts in
a certificate for the profile's fields: basic constraints always present and
critical, key usage critical, extended key usage from the `*_auth` uses, the CA's
subject key id (SHA-1 of its public key) as the site certificate's authority key id,
the validity from "now" for `validity_hours`, an ECDSA P-256 key and a SHA-256 signature.
"""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components.kubernetes.certificates import ECDSA_CURVE, KEY_ALGORITHM, CertificateProfile

_CURVES: dict[str, ec.EllipticCurve] = {"P256": ec.SECP256R1(), "P384": ec.SECP384R1()}
_KEY_USAGE_FLAGS = {
    "digital_signature": "digital_signature",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
}
_EXTENDED_USAGES = {"server_auth": ExtendedKeyUsageOID.SERVER_AUTH, "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH}


@dataclass(frozen=True)
class Issued:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def write(self, folder: Path, stem: str) -> tuple[Path, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        cert, key = folder / f"{stem}.pem", folder / f"{stem}.key"
        cert.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        key.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        key.chmod(0o600)
        return cert, key


def new_key() -> ec.EllipticCurvePrivateKey:
    assert KEY_ALGORITHM == "ECDSA", f"this helper makes ECDSA keys; the program uses {KEY_ALGORITHM}"
    return ec.generate_private_key(_CURVES[ECDSA_CURVE])


def issue(profile: CertificateProfile, issuer: Issued | None = None) -> Issued:
    """Self-signed when `issuer` is None (the CA), else signed by it (the site certificate)."""
    unknown = set(profile.allowed_uses) - set(_KEY_USAGE_FLAGS) - set(_EXTENDED_USAGES)
    assert not unknown, f"allowed uses this helper does not translate yet: {sorted(unknown)}"
    key = new_key()
    now = datetime.datetime.now(datetime.UTC)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, profile.organization),
            x509.NameAttribute(NameOID.COMMON_NAME, profile.common_name),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.certificate.subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(secrets.randbits(127))
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(hours=profile.validity_hours))
        .add_extension(x509.BasicConstraints(ca=profile.is_ca, path_length=None), critical=True)
        .add_extension(_key_usage(profile.allowed_uses), critical=True)
    )
    extended = [_EXTENDED_USAGES[use] for use in profile.allowed_uses if use in _EXTENDED_USAGES]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    if profile.dns_names:
        san = x509.SubjectAlternativeName([x509.DNSName(host) for host in profile.dns_names])
        builder = builder.add_extension(san, critical=False)
    if profile.is_ca or profile.subject_key_id:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    if issuer is not None:
        ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def _key_usage(uses: tuple[str, ...]) -> x509.KeyUsage:
    flags = dict.fromkeys(_KEY_USAGE_FLAGS.values(), False)
    flags |= {_KEY_USAGE_FLAGS[use]: True for use in uses if use in _KEY_USAGE_FLAGS}
    return x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)
