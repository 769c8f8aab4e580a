"""HTTPS to the site with the lab CA, for real, in the lab of `conftest`.

The ingress node serves the site on 443 with a certificate made here from exactly the
program's profiles (`components.kubernetes.certificates`); the laptop trusts nothing
but the CA file it is given, as a user does with `curl --cacert lab-ca.pem`. The lab is
shared with the other modules: its plain listener on 443 comes back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.network.https_site import HTTPS_PORT, HttpsSite, https_site_served
from tests.network.lab import Lab

pytestmark = pytest.mark.network

CURL_OK = 0
CURL_PEER_NOT_VERIFIED = 60  # "SSL certificate problem" / "no alternative certificate subject name matches"


@pytest.fixture(scope="module")
def https_site(lab: Lab) -> Iterator[HttpsSite]:
    """The ingress node's 443 listener replaced by an HTTPS one with a lab-CA certificate for the host."""
    with https_site_served(lab) as site:
        yield site


def _curl(site: HttpsSite, ns: str, *options: str, host: str | None = None) -> tuple[int, str, str]:
    name = host or site.host
    command = ["curl", "-sS", "--noproxy", "*", "--connect-timeout", "2", "--max-time", "5"]
    command += ["--resolve", f"{name}:{HTTPS_PORT}:{site.address}", *options, f"https://{name}/"]
    result = site.lab.ns.run(ns, *command, timeout=10)
    return result.returncode, result.stdout, result.stderr.strip()


def test_laptop_trusting_the_lab_ca_gets_the_site_over_https(https_site: HttpsSite) -> None:
    code, body, stderr = _curl(https_site, https_site.lab.laptop, "--cacert", str(https_site.ca_file))
    assert (code, stderr) == (CURL_OK, "")
    assert body == https_site.lab.site_page


def test_a_lab_guest_trusting_the_lab_ca_gets_the_site_over_https(https_site: HttpsSite) -> None:
    lab = https_site.lab
    code, body, stderr = _curl(https_site, lab.guest(lab.client), "--cacert", str(https_site.ca_file))
    assert (code, stderr) == (CURL_OK, "")
    assert body == lab.site_page


def test_without_the_lab_ca_the_certificate_is_refused(https_site: HttpsSite) -> None:
    """The system's trust store, and a look-alike CA with another key, do not vouch for the site."""
    laptop = https_site.lab.laptop
    for options in ((), ("--cacert", str(https_site.stranger_ca_file))):
        code, body, stderr = _curl(https_site, laptop, *options)
        assert code == CURL_PEER_NOT_VERIFIED, stderr
        assert body == ""


def test_the_certificate_is_good_for_the_host_only(https_site: HttpsSite) -> None:
    code, _, stderr = _curl(https_site, https_site.lab.laptop, "--cacert", str(https_site.ca_file), host="other.test")
    assert code == CURL_PEER_NOT_VERIFIED
    assert "other.test" in stderr


def test_plain_http_still_answers_beside_https(https_site: HttpsSite) -> None:
    lab = https_site.lab
    fetch = lab.fetch(lab.laptop, f"http://{https_site.host}/", resolve=f"{https_site.host}:80:{https_site.address}")
    assert (fetch.exit_code, fetch.status, fetch.body) == (0, "200", lab.site_page)
