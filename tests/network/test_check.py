"""`homelab check` from the laptop namespace: every hop answers on a working lab, and a broken hop is named.

The lab of this folder (router, guests, the site's stand-in at the ingress address) with
what the check needs besides: the /etc/hosts line in a file of the test's own, and the
two APIs listening on every control plane.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from config.guests import Role, lab_guests
from tests.network.build import MANAGEMENT_PORTS
from tests.network.https_site import https_site_served
from tests.network.inputs import STACKS
from tests.network.lab import HERE, Lab
from tests.support import REPO

pytestmark = pytest.mark.network

TIMEOUT = "1"  # seconds per probe: a broken hop costs at most that
SITE_LABEL, SITE_PORT = "ingress-80", 80


@pytest.fixture(scope="module")
def checked(lab: Lab) -> Iterator[Lab]:
    extra: list[str] = []
    for guest in lab_guests(lab.config):
        if guest.role is Role.CONTROL_PLANE and guest.name != lab.control_plane:
            for port in MANAGEMENT_PORTS:
                extra.append(f"check-{guest.name}-{port}")
                lab.http_server(lab.guest(guest.name), extra[-1], port)
                lab.ns.wait_listening(lab.guest(guest.name), "tcp", "0.0.0.0", port)
    (lab.workdir / "hosts").write_text(f"127.0.0.1 localhost\n{lab.plan.hosts_line}\n", encoding="utf-8")
    (lab.workdir / "hosts-without-line").write_text("127.0.0.1 localhost\n", encoding="utf-8")
    yield lab
    for label in extra:  # the lab is shared with the other modules: leave it as it was
        lab.ns.stop(label)


def _check(lab: Lab, hosts: str = "hosts", ca_file: Path | None = None) -> tuple[int, str]:
    command = ["env", f"PYTHONPATH={REPO}", sys.executable, "-m", "cli.main", "check"]
    command += ["--config-file", str(STACKS[lab.stack]), "--hosts-file", str(lab.workdir / hosts), "--timeout", TIMEOUT]
    if ca_file is not None:
        command += ["--ca-file", str(ca_file)]
    result = lab.ns.run(lab.laptop, *command, timeout=60)
    return result.returncode, result.stdout + result.stderr


def _broken_at(output: str) -> str:
    (line,) = [line for line in output.splitlines() if line.startswith("  FAIL  ")]
    return line.removeprefix("  FAIL  ").split(": ", 1)[0]


@contextlib.contextmanager
def _changed(lab: Lab, ns: str, do: list[str], undo: list[str]) -> Generator[None]:
    lab.ns.run_host("ip", "netns", "exec", ns, *do)
    try:
        yield
    finally:
        lab.ns.run_host("ip", "netns", "exec", ns, *undo)


def test_every_hop_answers_on_a_working_lab(checked: Lab) -> None:
    code, output = _check(checked)
    assert code == 0, output
    assert output.rstrip().endswith("homelab check: every hop answers")
    assert "FAIL" not in output


def test_a_missing_hosts_line_is_named(checked: Lab) -> None:
    code, output = _check(checked, "hosts-without-line")
    assert (code, _broken_at(output)) == (1, "hosts line"), output
    assert f"fix: put this line in {checked.workdir / 'hosts-without-line'}" in output


def test_a_missing_route_is_named_with_its_command(checked: Lab) -> None:
    pool, wan = str(checked.config.load_balancer.pool), str(checked.config.network.router.wan_address.ip)
    with _changed(checked, checked.laptop, ["ip", "route", "del", pool], ["ip", "route", "add", pool, "via", wan]):
        code, output = _check(checked)
    assert (code, _broken_at(output)) == (1, f"route to {pool}"), output
    assert f"fix: sudo ip route add {pool} via {wan}" in output


def test_a_router_that_does_not_forward_is_named(checked: Lab) -> None:
    checked.stop_firewall()  # as when its ruleset fails to load: forwarding off
    try:
        code, output = _check(checked)
    finally:
        assert checked.load_firewall(checked.ruleset)
    control_plane = next(g for g in lab_guests(checked.config) if g.name == checked.control_plane)
    assert (code, _broken_at(output)) == (1, f"Talos API on {control_plane.name} {control_plane.address}:50000"), output
    assert "the router answers but does not forward to the lab" in output
    assert "  ok    router " in output


def test_the_site_down_is_named(checked: Lab) -> None:
    checked.ns.stop(SITE_LABEL)
    try:
        code, output = _check(checked)
    finally:
        ingress_node = checked.guest(checked.ingress_node)
        stub = [sys.executable, str(HERE / "http_stub.py"), str(SITE_PORT), str(_site_root(checked))]
        checked.ns.spawn(ingress_node, SITE_LABEL, *stub)
        checked.ns.wait_listening(ingress_node, "tcp", "0.0.0.0", SITE_PORT)
    host, ingress = checked.config.site.host, checked.config.load_balancer.ingress_address
    assert (code, _broken_at(output)) == (1, f"site http://{host}/ at {ingress}"), output
    assert f"{ingress}:{SITE_PORT} refuses connections" in output
    assert _check(checked)[0] == 0, "the site is back"


def _site_root(lab: Lab) -> Path:
    return lab.workdir / "www" / SITE_LABEL


def test_https_with_the_lab_ca_answers(checked: Lab) -> None:
    with https_site_served(checked) as site:
        code, output = _check(checked, ca_file=site.ca_file)
    assert code == 0, output
    assert f"  ok    site https://{site.host}/ at {site.address}" in output


def test_https_with_another_ca_is_named(checked: Lab) -> None:
    with https_site_served(checked) as site:
        code, output = _check(checked, ca_file=site.stranger_ca_file)
    assert (code, _broken_at(output)) == (1, f"site https://{site.host}/ at {site.address}"), output
    assert f"signed by {site.stranger_ca_file}" in output
