"""The site over HTTPS in the test lab: the ingress node's 443 listener swapped for one with a
certificate made from exactly the program's profiles (`components.kubernetes.certificates`).

The lab is shared by the modules of this folder: the plain listener on 443 comes back afterwards.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from components.kubernetes.certificates import ca_profile, site_profile
from tests.network.certificates import issue
from tests.network.lab import HERE, Lab

HTTPS_PORT = 443
LISTENER = f"ingress-{HTTPS_PORT}"  # the label `build` gives the plain listener it starts there


@dataclass(frozen=True)
class HttpsSite:
    lab: Lab
    host: str
    address: str
    ca_file: Path
    stranger_ca_file: Path
    """A CA with the same name and uses but another key: trusting it must not be enough."""


@contextlib.contextmanager
def https_site_served(lab: Lab) -> Generator[HttpsSite]:
    address, host = lab.plan.hosts_line.split()
    folder = lab.workdir / "tls"
    ca = issue(ca_profile(lab.config.cluster.name))
    ca_file, _ = ca.write(folder, "lab-ca")
    cert_file, key_file = issue(site_profile(host), ca).write(folder, "site")
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
