"""The `vxlan` fabric for real: two namespaces as Proxmox hosts joined only by their management network,
each with the VXLAN device and VNet bridge the plan registers (VNI, peers, MTU), the router on one, the
guests on both, as the plan places them (`tests.network.vxlan`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from config.guests import lab_guests
from config.loading import load_stack_file
from config.models import LabConfig
from tests.network.inputs import plan_files
from tests.network.lab import Lab
from tests.network.netns import Namespaces
from tests.network.tools import require_root, require_tools
from tests.network.vxlan import Fabric, cable, configure_from_lease, counter, fabric_from, host_ns, set_mtu, vxlan_lab
from tests.support import REPO

pytestmark = pytest.mark.network

STACK = "vxlan-two-hosts"
STACK_FILE = REPO / "tests/fixtures/valid/vxlan-two-hosts.yaml"
TOOLS = ("ip", "bridge", "ss", "nft", "dnsmasq", "dhclient", "curl", "unshare", "sysctl", "ping")
IP_AND_ICMP = 28  # bytes of headers `ping -s` does not count
FRAGMENT_COUNTERS = ("FragCreates", "ReasmReqds")


@dataclass
class VxlanLab:
    lab: Lab
    fabric: Fabric
    leases: dict[str, dict[str, str]]
    ports: dict[str, str]  # guest -> its port on the host's VNet bridge

    @property
    def config(self) -> LabConfig:
        return self.lab.config

    def on_other_host(self) -> list[str]:
        """Guests that do not share the router's host."""
        return [name for name, host in self.fabric.guest_hosts.items() if host != self.fabric.router_host]

    def across(self) -> tuple[str, str]:
        """A guest on the router's host and one on the other."""
        near = next(n for n, h in self.fabric.guest_hosts.items() if h == self.fabric.router_host)
        return self.on_other_host()[0], near


@pytest.fixture(scope="module")
def vxlan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VxlanLab]:
    require_root("the hosts, VXLAN devices, bridges and guests are network namespaces")
    require_tools(*TOOLS)
    config = load_stack_file(STACK_FILE)
    workdir = tmp_path_factory.mktemp("lab-vxlan")
    plan = plan_files(STACK, STACK_FILE, workdir / "plan", config)
    fabric = fabric_from(json.loads((plan.folder / "resources.json").read_text(encoding="utf-8")), config)
    ns = Namespaces(f"hl{os.getpid()}-vx", workdir)
    try:
        lab = vxlan_lab(STACK, config, plan, fabric, ns)
        ports: dict[str, str] = {}
        for name in fabric.guest_hosts:
            ns.add(f"g-{name}")
            ports[name] = cable(lab, fabric, name)
            ns.resolver(lab.guest(name), [str(config.network.router.address)])
        got = lab.request_leases()
        leases = {name: configure_from_lease(lab, name) for name, lease in got.items() if lease is not None}
        ingress = lab.guest(lab.ingress_node)
        ns.ip(ingress, "address", "add", f"{config.load_balancer.ingress_address}/32", "dev", "eth0")
        lab.http_server(ingress, "ingress-80", 80, lab.site_page)
        ns.wait_listening(ingress, "tcp", "0.0.0.0", 80)
        yield VxlanLab(lab, fabric, leases, ports)
    finally:
        ns.close()


def _ping(vx: VxlanLab, source: str, target: str, size: int) -> bool:
    result = vx.lab.ns.run(vx.lab.guest(source), "ping", "-M", "do", "-c", "2", "-W", "2", "-s", str(size), target)
    return result.returncode == 0


def _fragments(vx: VxlanLab) -> dict[str, int]:
    spaces = [host_ns(vx.lab.ns, host) for host in vx.fabric.peers]
    spaces += [vx.lab.guest(name) for name in vx.fabric.guest_hosts] + [vx.lab.router]
    return {f"{ns}:{name}": counter(vx.lab, ns, name) for ns in spaces for name in FRAGMENT_COUNTERS}


def test_the_plan_puts_the_guests_on_both_hosts_and_the_mtu_50_bytes_under_the_underlay(vxlan: VxlanLab) -> None:
    fabric = vxlan.fabric
    assert set(fabric.peers) == {"pve-1", "pve-2"}
    assert fabric.mtu == vxlan.config.network.underlay_mtu - 50 == 1450
    assert set(fabric.guest_mtus.values()) == {fabric.mtu} and fabric.router_lan_mtu == fabric.mtu
    assert vxlan.on_other_host(), "a guest must run away from the router for this test to mean anything"
    assert set(fabric.guest_hosts.values()) == set(fabric.peers)


def test_guests_on_the_other_host_lease_their_reserved_address_and_the_mtu(vxlan: VxlanLab) -> None:
    reserved = {guest.name: str(guest.address) for guest in lab_guests(vxlan.config)}
    router = str(vxlan.config.network.router.address)
    for name in vxlan.fabric.guest_hosts:
        lease = vxlan.leases.get(name)
        assert lease is not None, f"{name}: no lease ({vxlan.lab.dhcp.log(name)}); {vxlan.lab.ns.log('dnsmasq')}"
        assert (lease["address"], lease["routers"], lease["mtu"]) == (reserved[name], router, str(vxlan.fabric.mtu))


def test_a_guest_on_the_other_host_reaches_the_site_by_name(vxlan: VxlanLab) -> None:
    """Through the router on the other host and back (the pool is routed on-link out of its LAN side).

    IPv4 names only: this lab has no upstream DNS, and the router forwards AAAA queries of its own names.
    """
    lab = vxlan.lab
    url = f"http://{vxlan.config.site.host}/"
    for name in vxlan.on_other_host():
        command = ["curl", "-4", "-sS", "--noproxy", "*", "--connect-timeout", "2", "--max-time", "4", url]
        fetch = lab.ns.run(lab.guest(name), *command)
        assert (fetch.returncode, fetch.stdout) == (0, lab.site_page), (name, fetch.stderr)


def test_a_packet_at_the_lab_mtu_crosses_the_hosts_unfragmented(vxlan: VxlanLab) -> None:
    source, target = vxlan.across()
    target_address = vxlan.leases[target]["address"]
    before = _fragments(vxlan)
    assert _ping(vxlan, source, target_address, vxlan.fabric.mtu - IP_AND_ICMP)
    assert _ping(vxlan, target, vxlan.leases[source]["address"], vxlan.fabric.mtu - IP_AND_ICMP)
    assert _fragments(vxlan) == before, "nothing was fragmented, on the guests, the router or the underlay"


def test_one_byte_more_does_not_cross(vxlan: VxlanLab) -> None:
    source, target = vxlan.across()
    target_address = vxlan.leases[target]["address"]
    too_big = vxlan.fabric.mtu - IP_AND_ICMP + 1
    assert not _ping(vxlan, source, target_address, too_big), "the guest's NIC (at the lab MTU) refuses it"
    # A NIC one byte above the lab MTU (as one without the setting would be): the VNet drops the frame.
    set_mtu(vxlan.lab, vxlan.fabric, source, vxlan.ports[source], vxlan.fabric.mtu + 1)
    try:
        assert not _ping(vxlan, source, target_address, too_big), "a frame over the VXLAN device's MTU crossed"
        assert _ping(vxlan, source, target_address, too_big - 1)
    finally:
        set_mtu(vxlan.lab, vxlan.fabric, source, vxlan.ports[source], vxlan.fabric.mtu)
