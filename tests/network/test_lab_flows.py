"""The rows of DESIGN §1's table "Who may talk to whom" that the basic suite does not cover.

Admins ping lab guests; lab guests reach nothing of the home LAN and nothing of the router
but DNS and DHCP; the WAN reaches 80/443 on the ingress address only; lab guests reach the
pool through the router (hairpin) without following ICMP redirects, and find the site by
name through the router's DNS.
"""

from __future__ import annotations

import pytest

from tests.network.build import HOME_PORTS, MANAGEMENT_PORTS, SITE_PORTS, elsewhere, other_pool_address
from tests.network.lab import FAST, REFUSED, Lab
from tests.network.probes import pings

pytestmark = pytest.mark.network


def _ignore_redirects(lab: Lab, ns: str) -> None:
    """As hardened hosts do: the path to the pool stays the router, whatever it might advise."""
    for interface in ("all", "default", "eth0"):
        lab.ns.sysctl(ns, f"net.ipv4.conf.{interface}.accept_redirects", "0")


def test_admins_ping_lab_guests_others_do_not(lab: Lab) -> None:
    target = lab.address(lab.control_plane)
    assert pings(lab, lab.laptop, target), f"laptop (admin) -> ping {target}"
    assert not pings(lab, lab.outsider, target), f"outsider -> ping {target} must fail"


def test_lab_guests_reach_nothing_of_the_home_lan(lab: Lab) -> None:
    home, gateway = str(lab.stand_ins.home), str(lab.config.network.router.wan_gateway)
    targets = [(home, port) for port in HOME_PORTS] + [(gateway, 80)]
    for address, port in targets:  # the listeners are there: the home LAN reaches them
        fetch = lab.fetch(lab.laptop, f"http://{address}:{port}/")
        assert (fetch.exit_code, fetch.status) == (0, "200"), f"laptop -> {address}:{port}: {fetch}"
    for guest in (lab.client, lab.control_plane):
        for address, port in targets:
            fetch = lab.fetch(lab.guest(guest), f"http://{address}:{port}/", connect_timeout=0.5)
            assert fetch.exit_code != 0, f"{guest} -> home LAN {address}:{port} must not connect: {fetch}"


def test_lab_guests_reach_no_private_cgnat_or_link_local_network_only_the_internet(lab: Lab) -> None:
    """Behind the home gateway: other private subnets, CGNAT, link-local, benchmarking; whatever adminCidrs is."""
    for kind, address in elsewhere(lab.config).items():
        # The listener is there, one hop past the router: the router itself reaches it.
        direct = lab.fetch(lab.router, f"http://{address}/")
        assert (direct.exit_code, direct.status) == (0, "200"), f"router -> {kind} {address}: {direct}"
        for guest in (lab.client, lab.control_plane):
            fetch = lab.fetch(lab.guest(guest), f"http://{address}/", connect_timeout=0.5)
            assert fetch.exit_code != 0, f"{guest} -> {kind} {address} must not connect: {fetch}"
    internet = lab.fetch(lab.guest(lab.client), f"http://{lab.stand_ins.upstream}/")
    assert (internet.exit_code, internet.status) == (0, "200"), f"{lab.client} -> the internet: {internet}"


def test_networks_behind_the_gateway_reach_no_lab_management_port(lab: Lab) -> None:
    """The other direction: from those networks' addresses, the lab's SSH, Talos and Kubernetes APIs are refused."""
    gateway, target = lab.ns.name("gateway"), lab.address(lab.control_plane)
    for kind, address in elsewhere(lab.config).items():
        for port in MANAGEMENT_PORTS:
            command = ["curl", "-sS", "--noproxy", "*", "--interface", str(address), "--connect-timeout", "1"]
            result = lab.ns.run(gateway, *command, "--max-time", "2", f"http://{target}:{port}/", timeout=10)
            assert result.returncode == REFUSED, f"{kind} {address} -> {target}:{port}: {result.stderr}"


def test_lab_guests_reach_the_router_for_dns_and_dhcp_only(lab: Lab) -> None:
    router = lab.config.network.router
    for address in (str(router.address), str(router.wan_address.ip)):
        fetch = lab.fetch(lab.guest(lab.client), f"http://{address}:22/", connect_timeout=0.5)
        assert fetch.exit_code != 0, f"{lab.client} -> router {address}:22 must not connect: {fetch}"


def test_web_ports_from_the_wan_only_on_the_ingress_address(lab: Lab) -> None:
    other = str(other_pool_address(lab.config))
    for port in SITE_PORTS:
        inside = lab.fetch(lab.guest(lab.ingress_node), f"http://{other}:{port}/")
        assert (inside.exit_code, inside.status) == (0, "200"), f"the listener on {other}:{port} itself: {inside}"
        for ns in (lab.laptop, lab.outsider):
            fetch = lab.fetch(ns, f"http://{other}:{port}/")
            assert fetch.exit_code == REFUSED, f"{ns} -> {other}:{port} (not the ingress address): {fetch}"
            assert fetch.seconds < FAST


def test_hairpin_lab_guest_reaches_the_pool_without_redirects(lab: Lab) -> None:
    client = lab.guest(lab.client)
    _ignore_redirects(lab, client)
    host, ingress = lab.config.site.host, str(lab.config.load_balancer.ingress_address)
    for port in SITE_PORTS:
        fetch = lab.fetch(client, f"http://{host}:{port}/", resolve=f"{host}:{port}:{ingress}")
        assert (fetch.exit_code, fetch.status, fetch.body) == (0, "200", lab.site_page), f"port {port}: {fetch}"
    other = lab.fetch(client, f"http://{other_pool_address(lab.config)}/")
    assert (other.exit_code, other.status) == (0, "200"), f"lab guests reach the whole pool on 80/443: {other}"


def test_lab_guest_gets_the_site_by_name_through_the_router(lab: Lab) -> None:
    client = lab.guest(lab.client)
    lease = lab.leases[lab.client]
    assert lease is not None
    _ignore_redirects(lab, client)
    lab.ns.resolver(client, lease.dns)  # the DNS server its lease names: the router
    host, ingress = lab.config.site.host, str(lab.config.load_balancer.ingress_address)
    answer = lab.resolve(client, lease.dns[0], host)
    assert answer.stdout.split() == [ingress], f"{host} from the router's DNS: {answer.stdout}"
    fetch = lab.fetch(client, f"http://{host}/")
    assert (fetch.exit_code, fetch.status, fetch.body) == (0, "200", lab.site_page), fetch
