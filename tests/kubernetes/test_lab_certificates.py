"""The lab CA and the site certificate under mocks: resources, parameters, secrecy, and where they go."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pytest

from components.kubernetes.certificates import (
    CA_USES,
    MAX_LEAF_VALIDITY_DAYS,
    SITE_USES,
    ca_profile,
    site_profile,
)
from components.kubernetes.helm_values import DEFAULT_CERTIFICATE_SECRET, TRAEFIK_CHART
from components.kubernetes.lab_ca import TlsKeyPair, tls_secret
from components.kubernetes.manifests import SITE_NAMESPACE, SITE_TLS_SECRET, site_tls_secret
from plan.mocks import LabMocks
from plan.redaction import SECRET
from plan.run import run_plan
from plan.summary import summary_text
from tests.support import STACK_NAMES, named, stack_config, stack_plan, upstream

PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"
REQUEST = "tls:index/certRequest:CertRequest"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
K8S_SECRET = "kubernetes:core/v1:Secret"
COMPONENT = "homelab:kubernetes:LabCertificates"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_one_component_owns_two_ecdsa_keys_the_ca_a_request_and_the_site_certificate(stack: str) -> None:
    plan = stack_plan(stack)
    (component,) = plan.by_type(COMPONENT)
    children = {r.name: r.type for r in plan.registrations if r.parent == component.urn}
    assert children == {
        "lab-ca-ca-key": PRIVATE_KEY,
        "lab-ca-ca": SELF_SIGNED,
        "lab-ca-site-key": PRIVATE_KEY,
        "lab-ca-site-request": REQUEST,
        "lab-ca-site": SIGNED,
    }
    for key in ("lab-ca-ca-key", "lab-ca-site-key"):
        assert named(plan, key).inputs == {"algorithm": "ECDSA", "ecdsaCurve": "P256"}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_ca_is_a_self_signed_signing_certificate_for_ten_years(stack: str) -> None:
    plan = stack_plan(stack)
    ca = named(plan, "lab-ca-ca").inputs
    assert ca["isCaCertificate"] is True
    assert ca["setSubjectKeyId"] is True
    assert ca["allowedUses"] == list(CA_USES) == ["cert_signing", "crl_signing"]
    assert ca["validityPeriodHours"] == 3650 * 24
    assert ca["subject"] == {"commonName": f"{plan.config.cluster.name} lab CA", "organization": "homelab"}
    assert ca["privateKeyPem"] == SECRET
    assert named(plan, "lab-ca-ca-key").urn in named(plan, "lab-ca-ca").dependencies


@pytest.mark.parametrize(("stack", "host"), [("dev", "www.example.com"), ("ha", "site.lab.test")])
def test_site_certificate_names_only_the_host_and_renews_early(stack: str, host: str) -> None:
    plan = stack_plan(stack)
    request = named(plan, "lab-ca-site-request").inputs
    assert request["dnsNames"] == [host]
    assert request["subject"] == {"commonName": host, "organization": "homelab"}
    signed = named(plan, "lab-ca-site")
    assert signed.inputs["allowedUses"] == list(SITE_USES) == ["digital_signature", "server_auth"]
    assert signed.inputs["validityPeriodHours"] == 365 * 24
    assert signed.inputs["earlyRenewalHours"] == 60 * 24
    assert signed.inputs["setSubjectKeyId"] is False
    # Signed by this CA with its key, for this request.
    ca_pem = plan.outputs["caCertificate"]
    assert signed.inputs["caCertPem"] == ca_pem
    assert signed.inputs["caPrivateKeyPem"] == SECRET
    assert named(plan, "lab-ca-site-request").urn in signed.dependencies
    assert named(plan, "lab-ca-ca-key").urn in signed.dependencies


def test_profiles_respect_browser_limits() -> None:
    site, ca = site_profile("www.example.com"), ca_profile("homelab")
    assert site.validity_days <= MAX_LEAF_VALIDITY_DAYS <= 397
    assert 0 < site.renewal_days < site.validity_days
    assert ca.validity_days > site.validity_days
    assert ca.dns_names == ()


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_private_keys_stay_secret_and_the_ca_certificate_does_not(stack: str) -> None:
    plan = stack_plan(stack)
    assert named(plan, "lab-ca-ca").secret_inputs == ["privateKeyPem"]
    assert named(plan, "lab-ca-site-request").secret_inputs == ["privateKeyPem"]
    assert named(plan, "lab-ca-site").secret_inputs == ["caPrivateKeyPem"]
    for secret in plan.by_type(K8S_SECRET):
        assert secret.inputs["data"] == SECRET
        assert "data" in secret.secret_inputs
        assert "stringData" not in secret.inputs
    assert "caCertificate" not in plan.secret_outputs
    assert plan.outputs["caCertificate"].startswith("-----BEGIN CERTIFICATE-----")
    assert plan.outputs["httpsUrl"] == f"https://{plan.config.site.host}"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_tls_secrets_for_the_ingress_and_traefiks_default_store(stack: str) -> None:
    plan = stack_plan(stack)
    secrets = {
        (s.inputs["metadata"]["namespace"], s.inputs["metadata"]["name"]): s
        for s in plan.by_type(K8S_SECRET)
        if s.inputs["type"] == "kubernetes.io/tls"
    }
    assert set(secrets) == {(SITE_NAMESPACE, SITE_TLS_SECRET), (TRAEFIK_CHART.namespace, DEFAULT_CERTIFICATE_SECRET)}
    for secret in secrets.values():
        assert secret.inputs["type"] == "kubernetes.io/tls"
        assert named(plan, "lab-ca-site").urn in upstream(plan, secret)
    # The release creates Traefik's namespace; the Ingress waits for the certificate it names.
    default_secret = secrets[(TRAEFIK_CHART.namespace, DEFAULT_CERTIFICATE_SECRET)]
    assert named(plan, "traefik-release").urn in default_secret.dependencies
    site_secret = secrets[(SITE_NAMESPACE, SITE_TLS_SECRET)]
    assert named(plan, "example-site-namespace").urn in site_secret.dependencies
    ingress = named(plan, "example-site-ingress")
    assert site_secret.urn in ingress.dependencies
    assert ingress.inputs["spec"]["tls"] == [{"hosts": [plan.config.site.host], "secretName": SITE_TLS_SECRET}]
    values = named(plan, "traefik-release").inputs["values"]
    assert values["tlsStore"]["default"]["defaultCertificate"]["secretName"] == DEFAULT_CERTIFICATE_SECRET


def test_a_new_host_keeps_the_ca_and_reissues_only_the_site_certificate() -> None:
    """Users trust the CA once: changing the site host must not replace it."""
    config = stack_config("dev")
    moved = config.model_copy(update={"site": config.site.model_copy(update={"host": "lab.example.org"})})
    before, after = stack_plan("dev"), run_plan(moved, "dev")
    for name in ("lab-ca-ca-key", "lab-ca-ca", "lab-ca-site-key"):
        assert named(before, name).inputs == named(after, name).inputs
    assert named(after, "lab-ca-site-request").inputs["dnsNames"] == ["lab.example.org"]
    assert after.outputs["caCertificate"] == before.outputs["caCertificate"]


def test_plan_summary_prints_the_https_url_and_how_to_get_the_ca_certificate() -> None:
    plan = stack_plan("dev")
    text = summary_text(plan)
    assert 'httpsUrl: "https://www.example.com"' in text
    assert "caCertificate: (known after pulumi up)" in text  # the plan's is a mock's
    assert "HTTPS:       https://www.example.com once the lab CA is trusted" in text
    assert "pulumi stack output caCertificate > lab-ca.pem" in text


def test_tls_secret_carries_the_pair_base64_encoded_and_secret() -> None:
    """What the cluster receives: `tls.crt` and `tls.key` as Kubernetes expects them, never in clear."""
    pulumi.runtime.set_mocks(LabMocks(), project="homelab", stack="unit", preview=False)
    cert, key = "-----BEGIN CERTIFICATE-----\nC\n", "-----BEGIN PRIVATE KEY-----\nK\n"
    pair = TlsKeyPair(certificate=pulumi.Output.from_input(cert), private_key=pulumi.Output.secret(key))

    @pulumi.runtime.test
    def check() -> pulumi.Output[None]:
        secret = tls_secret("unit-tls", site_tls_secret(), pair, pulumi.ResourceOptions())

        def verify(args: list[Any]) -> None:
            data, is_secret, kind = args
            assert is_secret
            assert kind == "kubernetes.io/tls"
            decoded = {key: base64.b64decode(value).decode() for key, value in data.items()}
            assert decoded == {"tls.crt": cert, "tls.key": key}

        return pulumi.Output.all(secret.data, pulumi.Output.is_secret(secret.data), secret.type).apply(verify)

    check()
