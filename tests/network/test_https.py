"""HTTPS to the site with the lab CA, for real, in the lab of `conftest`.

The ingress node serves the site on 443 with a certificate made here from exactly the
program's profiles (`components.kubernetes.certificates`); the laptop trusts nothing
but the CA file it is given, as a user does with `curl --cacert lab-ca.pem`. The lab is
shared with the other modules: its plain listener on 443 comes back afterwards.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.kubernetes.certificates import ca_profile, site_profile
from tests.network.certificates import issue
from tests.network.lab import HERE, Lab

pytestmark = pytest.mark.network

HTTPS_PORT = 443
LISTENER = f"ingress-{HTTPS_PORT}"  # the label `build` gives the plain listener it starts there
CURL_OK = 0
CURL_PEER_NOT_VERIFIED = 60  # "SSL certificate problem" / "no alternative certificate subject name matches"


@dataclass(frozen=True)
class HttpsSite:
    lab: Lab
    host: str
    address: str
    ca_file: Path
    stranger_ca_file: Path


@pytest.fixture(scope="module")
def https_site(lab: Lab) -> Iterator[HttpsSite]:
    """The ingress node's 443 listener replaced by an HTTPS one with a lab-CA certificate for the host."""
    address, host = lab.plan.hosts_line.split()
    folder = lab.workdir / "tls"
    ca = issue(ca_profile(lab.config.cluster.name))
    ca_file, _ = ca.write(folder, "lab-ca")
    cert_file, key_file = issue(site_profile(host), ca).write(folder, "site")
    # A CA with the same name and uses but another key: trusting it must not be enough.
    stranger_file, _ = issue(ca_profile(lab.config.cluster.name)).write(folder, "stranger-ca")
    root = lab.workdir / "www" / LISTENER
    node = lab.guest(lab.ingress_node)
    stub = [sys.executable, str(HERE / "http_stub.py"), str(HTTPS_PORT), str(root)]
    lab.ns.spawn(node, LISTENER, *stub, str(cert_file), str(key_file))
    lab.ns.wait_listening(node, "tcp", "0.0.0.0", HTTPS_PORT)
    try:
        yield HttpsSite(lab, host, address, ca_file, stranger_file)
    finally:
        lab.ns.spawn(node, LISTENER, *stub)
        lab.ns.wait_listening(node, "tcp", "0.0.0.0", HTTPS_PORT)


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
