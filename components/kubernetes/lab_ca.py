"""LabCertificates: a private CA the laptop can trust, and the site's certificate signed by it.

Everything lives in the stack's state: the private keys as secrets, the CA
certificate as a plain output for the user to trust. The site certificate is
renewed by the first `pulumi up` inside its renewal window: the TLS provider's
plan marks `ready_for_renewal` as replacing once `validity_end_time -
early_renewal_hours` has passed (hashicorp/terraform-provider-tls v4.2.1,
internal/provider/common_cert.go `modifyPlanIfCertificateReadyForRenewal`, called
from `locallySignedCertResource.ModifyPlan`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_tls as tls

from components.kubernetes.certificates import ECDSA_CURVE, KEY_ALGORITHM, ca_profile, site_profile
from components.kubernetes.manifests import Manifest

_PRIVATE_KEY_OUTPUTS = ["privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"]


@dataclass(frozen=True)
class TlsKeyPair:
    certificate: pulumi.Output[str]
    """PEM, public."""
    private_key: pulumi.Output[str]
    """PEM, secret."""


@dataclass(frozen=True)
class LabCertificatesArgs:
    lab_name: str
    """Names the CA (the cluster name), so several labs' CAs tell apart in a trust store."""
    host: str
    """The site host: the certificate's only name."""


class LabCertificates(pulumi.ComponentResource):
    ca_certificate: pulumi.Output[str]
    site: TlsKeyPair

    def __init__(self, name: str, args: LabCertificatesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("homelab:kubernetes:LabCertificates", name, None, opts)
        ca, site = ca_profile(args.lab_name), site_profile(args.host)
        child = pulumi.ResourceOptions(parent=self)
        ca_key = self._private_key(f"{name}-ca-key")
        ca_certificate = tls.SelfSignedCert(
            f"{name}-ca",
            private_key_pem=ca_key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name=ca.common_name, organization=ca.organization),
            is_ca_certificate=True,
            set_subject_key_id=ca.subject_key_id,
            allowed_uses=list(ca.allowed_uses),
            validity_period_hours=ca.validity_hours,
            early_renewal_hours=ca.early_renewal_hours,
            opts=child,
        )
        site_key = self._private_key(f"{name}-site-key")
        request = tls.CertRequest(
            f"{name}-site-request",
            private_key_pem=site_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=site.common_name, organization=site.organization),
            dns_names=list(site.dns_names),
            opts=child,
        )
        site_certificate = tls.LocallySignedCert(
            f"{name}-site",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca_certificate.cert_pem,
            allowed_uses=list(site.allowed_uses),
            validity_period_hours=site.validity_hours,
            early_renewal_hours=site.early_renewal_hours,
            set_subject_key_id=site.subject_key_id,
            opts=child,
        )
        self.ca_certificate = ca_certificate.cert_pem
        self.site = TlsKeyPair(
            certificate=site_certificate.cert_pem, private_key=pulumi.Output.secret(site_key.private_key_pem)
        )
        self.register_outputs({"caCertificate": self.ca_certificate, "siteCertificate": self.site.certificate})

    def _private_key(self, name: str) -> tls.PrivateKey:
        return tls.PrivateKey(
            name,
            algorithm=KEY_ALGORITHM,
            ecdsa_curve=ECDSA_CURVE,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=_PRIVATE_KEY_OUTPUTS),
        )


def tls_secret(name: str, manifest: Manifest, pair: TlsKeyPair, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
    """A `kubernetes.io/tls` Secret holding `pair`; its data is secret in the state and in every plan.

    `data`, not `stringData`: the API server folds `stringData` into `data`, which server-side
    apply then sees as a change (kubernetes/website#42603, pulumi/pulumi-kubernetes#2507).
    """
    data = pulumi.Output.all(pair.certificate, pair.private_key).apply(
        lambda pems: {"tls.crt": _base64(pems[0]), "tls.key": _base64(pems[1])}
    )
    return k8s.core.v1.Secret(
        name, metadata=manifest["metadata"], type=manifest["type"], data=pulumi.Output.secret(data), opts=opts
    )


def _base64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")
