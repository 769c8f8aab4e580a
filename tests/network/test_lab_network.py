"""The lab network for real (DESIGN §7.4), for each stack of `conftest.STACKS`.

The router runs the plan's dnsmasq.conf, nftables.nft and network.json in a network
namespace; guests lease addresses with a real DHCP client; the laptop uses the routes
and the /etc/hosts line the plan prints. Expected addresses come from the stack config.
"""

from __future__ import annotations

import time

import pytest

from config.guests import lab_guests
from tests.network.build import MANAGEMENT_PORTS, SITE_PORTS, UNLISTED_PORT
from tests.network.dhcp import Lease
from tests.network.lab import FAST, REFUSED, Fetch, Lab

pytestmark = pytest.mark.network


def _site(lab: Lab) -> tuple[str, str]:
    """Host and address of the /etc/hosts line the plan prints for the laptop."""
    address, host = lab.plan.hosts_line.split()
    return host, address


def _get_site(lab: Lab, ns: str, port: int) -> Fetch:
    host, address = _site(lab)
    return lab.fetch(ns, f"http://{host}:{port}/", resolve=f"{host}:{port}:{address}")


def _management_targets(lab: Lab) -> list[str]:
    control_plane = next(g for g in lab_guests(lab.config) if g.name == lab.control_plane)
    vip = lab.config.cluster.vip
    return [str(control_plane.address), *([str(vip)] if vip is not None else [])]


def _lease_problems(lab: Lab, leases: dict[str, Lease | None]) -> list[str]:
    router = str(lab.config.network.router.address)
    netmask = str(lab.config.network.cidr.netmask)
    problems: list[str] = []
    for guest in lab_guests(lab.config):
        lease = leases.get(guest.name)
        if lease is None:
            problems.append(f"{guest.name}: no lease (see {lab.dhcp.log(guest.name)})")
            continue
        got = (lease.address, lease.mask, lease.routers, lease.dns, lease.hostname)
        expected = (str(guest.address), netmask, [router], [router], guest.name)
        if got != expected:
            problems.append(f"{guest.name} ({guest.mac}): leased {got}, reserved {expected}")
    return problems


def _report(problems: list[str], lab: Lab) -> str:
    return "\n".join([*problems, "--- dnsmasq log ---", lab.ns.log("dnsmasq")])


def test_each_guest_leases_its_reserved_address(lab: Lab) -> None:
    problems = _lease_problems(lab, lab.leases)
    assert not problems, _report(problems, lab)


def test_laptop_gets_the_site_through_the_router(lab: Lab) -> None:
    host, address = _site(lab)
    assert (host, address) == (lab.config.site.host, str(lab.config.load_balancer.ingress_address))
    route = lab.ns.run(lab.laptop, "ip", "route", "get", address).stdout
    assert f"via {lab.config.network.router.wan_address.ip} " in route, "the laptop's route to the site"
    for port in SITE_PORTS:
        fetch = _get_site(lab, lab.laptop, port)
        assert (fetch.exit_code, fetch.status, fetch.body) == (0, "200", lab.site_page), fetch


def test_admin_reaches_ssh_talos_and_kubernetes_apis(lab: Lab) -> None:
    for target in _management_targets(lab):
        for port in MANAGEMENT_PORTS:
            fetch = lab.fetch(lab.laptop, f"http://{target}:{port}/")
            assert (fetch.exit_code, fetch.status) == (0, "200"), f"laptop -> {target}:{port}: {fetch}"


def test_non_admin_reaches_the_site(lab: Lab) -> None:
    for port in SITE_PORTS:
        fetch = _get_site(lab, lab.outsider, port)
        assert (fetch.exit_code, fetch.status, fetch.body) == (0, "200", lab.site_page), fetch


def test_non_admin_is_refused_on_ssh_talos_and_kubernetes_apis(lab: Lab) -> None:
    for target in _management_targets(lab):
        for port in MANAGEMENT_PORTS:
            fetch = lab.fetch(lab.outsider, f"http://{target}:{port}/")
            assert fetch.exit_code == REFUSED, f"outsider -> {target}:{port}: {fetch}"
            assert fetch.seconds < FAST, f"outsider -> {target}:{port} took {fetch.seconds:.1f}s to be refused"


def test_other_ports_are_refused_from_the_wan_even_for_admins(lab: Lab) -> None:
    target = _management_targets(lab)[0]
    inside = lab.fetch(lab.guest(lab.client), f"http://{target}:{UNLISTED_PORT}/")
    assert (inside.exit_code, inside.status) == (0, "200"), f"the listener itself, from the lab: {inside}"
    fetch = lab.fetch(lab.laptop, f"http://{target}:{UNLISTED_PORT}/")
    assert fetch.exit_code == REFUSED, f"laptop -> {target}:{UNLISTED_PORT}: {fetch}"
    assert fetch.seconds < FAST


def test_router_ssh_only_from_admins(lab: Lab) -> None:
    wan = str(lab.config.network.router.wan_address.ip)
    admin = lab.fetch(lab.laptop, f"http://{wan}:22/")
    assert (admin.exit_code, admin.status) == (0, "200"), f"laptop -> router:22: {admin}"
    other = lab.fetch(lab.outsider, f"http://{wan}:22/", connect_timeout=1)
    assert other.exit_code != 0, f"outsider -> router:22 must not connect: {other}"


def _source_seen_upstream(lab: Lab, path: str) -> str | None:
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        for line in lab.ns.log("upstream-http").splitlines():
            if f"GET {path} " in line:
                return line.split()[0]
        time.sleep(0.05)
    return None


def test_nodes_reach_the_upstream_masqueraded(lab: Lab) -> None:
    wan = str(lab.config.network.router.wan_address.ip)
    for guest in lab_guests(lab.config):
        path = f"/from-{guest.name}"
        fetch = lab.fetch(lab.guest(guest.name), f"http://{lab.stand_ins.upstream}{path}")
        assert fetch.exit_code == 0, f"{guest.name} -> upstream: {fetch}"
        assert _source_seen_upstream(lab, path) == wan, f"{guest.name}: the upstream must see the router's WAN address"


def test_router_serves_dns_to_the_lab_only(lab: Lab) -> None:
    lan, wan = str(lab.config.network.router.address), str(lab.config.network.router.wan_address.ip)
    answer = lab.resolve(lab.guest(lab.client), lan, lab.probe_name)
    assert answer.stdout.split() == [str(lab.stand_ins.upstream)], answer.stdout + lab.ns.log("dnsmasq")
    for guest in lab_guests(lab.config):
        local = lab.resolve(lab.guest(lab.client), lan, guest.name)
        assert local.stdout.split() == [str(guest.address)], f"{guest.name} by name: {local.stdout}"
    from_wan = lab.resolve(lab.laptop, wan, lab.probe_name)
    assert from_wan.returncode == 1, f"the router answered DNS on the WAN: {from_wan.stdout}"


def test_dnsmasq_restart_keeps_every_reservation(lab: Lab) -> None:
    lab.restart_dnsmasq()
    leases = lab.lease_file().read_text(encoding="utf-8").lower()
    for guest in lab_guests(lab.config):
        assert f" {guest.mac.lower()} {guest.address} {guest.name} " in leases, f"{guest.name} not in the lease file"
    renewed = lab.request_leases()
    problems = _lease_problems(lab, renewed)
    assert not problems, _report(problems, lab)
    assert {lease.reason for lease in renewed.values() if lease is not None} == {"REBOOT"}, "renewed, not new"
