"""The lab CA and the site certificate: what they are made of (pure).

The program hands these parameters to `pulumi_tls`; the network tests generate a
certificate from the same values, so the two cannot drift apart.

ECDSA P-256 keys: every browser, curl and OS trust store accepts them, they are
small and fast to sign with, and `pulumi_tls` generates them natively. RSA adds
nothing a lab needs.
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_ALGORITHM = "ECDSA"
ECDSA_CURVE = "P256"
ORGANIZATION = "homelab"

HOURS_PER_DAY = 24
CA_VALIDITY_DAYS = 3650
# Browsers and Apple platforms refuse a TLS leaf valid for more than 398 days.
SITE_VALIDITY_DAYS = 365
# A `pulumi up` in the last 60 days of the certificate's life replaces it (pulumi_tls `early_renewal_hours`).
SITE_RENEWAL_DAYS = 60
MAX_LEAF_VALIDITY_DAYS = 397

CA_USES = ("cert_signing", "crl_signing")
# No key_encipherment: an ECDSA key only signs (TLS 1.2 ECDHE and TLS 1.3 key exchange).
SITE_USES = ("digital_signature", "server_auth")


@dataclass(frozen=True)
class CertificateProfile:
    """One certificate, in the words of `pulumi_tls` (allowed uses, hours)."""

    common_name: str
    organization: str
    dns_names: tuple[str, ...]
    is_ca: bool
    allowed_uses: tuple[str, ...]
    validity_hours: int
    early_renewal_hours: int
    subject_key_id: bool
    """Carry a subject key identifier (a CA gets one anyway), so what it signs names its key."""

    @property
    def validity_days(self) -> int:
        return self.validity_hours // HOURS_PER_DAY

    @property
    def renewal_days(self) -> int:
        return self.early_renewal_hours // HOURS_PER_DAY


def ca_profile(lab_name: str) -> CertificateProfile:
    """The CA users trust. Its name does not carry the site host: changing the host keeps the CA."""
    return CertificateProfile(
        common_name=f"{lab_name} lab CA",
        organization=ORGANIZATION,
        dns_names=(),
        is_ca=True,
        allowed_uses=CA_USES,
        validity_hours=CA_VALIDITY_DAYS * HOURS_PER_DAY,
        # Never renewed early: a new CA certificate would have to be trusted again on every laptop.
        early_renewal_hours=0,
        subject_key_id=True,
    )


def site_profile(host: str) -> CertificateProfile:
    return CertificateProfile(
        common_name=host,
        organization=ORGANIZATION,
        dns_names=(host,),
        is_ca=False,
        allowed_uses=SITE_USES,
        validity_hours=SITE_VALIDITY_DAYS * HOURS_PER_DAY,
        early_renewal_hours=SITE_RENEWAL_DAYS * HOURS_PER_DAY,
        subject_key_id=False,
    )
