"""What the router's DHCP server can do against forged MACs and rogue servers on the lab bridge.

A flood of made-up MACs gets no more than the dynamic range (and the lease limit), for an
hour at most, and reserved guests keep their addresses; a guest holding an address a rogue
server handed out is refused it (the router is authoritative) and gets its reservation. Stopping guests from
forging MACs or answering DHCP at all is the Proxmox firewall's part, on the guests' NICs.
"""

from __future__ import annotations

import time

import pytest

from components.router.files import render_router_files
from config.guests import lab_guests
from config.models import DhcpRange
from tests.network.build import LAB_BRIDGE, SWITCH
from tests.network.dhcp import DhcpClients
from tests.network.lab import Lab

pytestmark = pytest.mark.network

RANGE = 1  # addresses in the dynamic range the flood runs against
FLOOD = RANGE + 1  # forged MACs
FORGED_MAC_PREFIX = "02:00:5e:10:00"
DYNAMIC_LEASE_SECONDS = 3600  # an exhausted range comes back within the hour
DNSMASQ_LEASE_MAX = 1000  # dnsmasq's default when the config sets none
FLOOD_TIMEOUT = 5  # seconds a forged client tries (dnsmasq pings a dynamic address before offering it)


def _reservations_hold(lab: Lab) -> list[str]:
    renewed = lab.request_leases()
    problems: list[str] = []
    for guest in lab_guests(lab.config):
        lease = renewed.get(guest.name)
        if lease is None or lease.address != str(guest.address):
            problems.append(f"{guest.name}: {lease} instead of {guest.address}")
    return problems


def test_forged_macs_get_no_more_than_the_dynamic_range(lab: Lab) -> None:
    span = lab.free_addresses()[-2 * RANGE :][:RANGE]  # consecutive, clear of every guest
    assert int(span[-1]) - int(span[0]) == RANGE - 1
    network = lab.config.network.model_copy(
        update={"dynamic_range": DhcpRange.model_validate({"start": str(span[0]), "end": str(span[-1])})}
    )
    conf_text = render_router_files(lab.config.model_copy(update={"network": network})).dnsmasq_conf
    conf = lab.workdir / "dnsmasq-dynamic.conf"
    conf.write_text(conf_text, encoding="utf-8")
    limits = [line.removeprefix("dhcp-lease-max=") for line in conf_text.splitlines() if "dhcp-lease-max=" in line]
    lease_max = int(limits[-1]) if limits else DNSMASQ_LEASE_MAX
    try:
        lab.restart_dnsmasq(conf)
        intruders: dict[str, str] = {}
        for index in range(FLOOD):
            ns = lab.ns.add(f"forged-{index}")
            lab.ns.connect(lab.ns.name(SWITCH), LAB_BRIDGE, ns, "eth0", f"{FORGED_MAC_PREFIX}:{index:02x}")
            intruders[f"forged-{index}"] = ns
        leases = DhcpClients(lab.workdir / "flood", timeout=FLOOD_TIMEOUT).request(intruders)
        taken = sorted(lease.address for lease in leases.values() if lease is not None)
        assert taken == sorted(map(str, span)), f"the flood took {taken}; the range is {span}"
        table = [line.split() for line in lab.lease_file().read_text(encoding="utf-8").splitlines()]
        assert len(table) <= lease_max
        flooded = [int(expiry) for expiry, mac, *_ in table if mac.startswith(FORGED_MAC_PREFIX)]
        assert flooded and max(flooded) <= time.time() + DYNAMIC_LEASE_SECONDS, "forged MACs hold the range too long"
        assert _reservations_hold(lab) == [], "a reserved guest lost its address to the flood"
    finally:
        lab.restart_dnsmasq()


def test_an_address_from_a_rogue_server_is_refused(lab: Lab) -> None:
    guest = next(g for g in lab_guests(lab.config) if g.name == lab.client)
    rogue_address = str(lab.free_addresses()[0])
    clients = DhcpClients(lab.workdir / "rogue-lease")
    (clients.folder / guest.name).mkdir()
    (clients.folder / guest.name / "leases").write_text(
        f'lease {{\n  interface "eth0";\n  fixed-address {rogue_address};\n'
        "  option subnet-mask 255.255.255.0;\n  renew never;\n  rebind never;\n  expire never;\n}\n",
        encoding="utf-8",
    )
    leases = clients.request({guest.name: lab.guest(guest.name)})
    lease = leases[guest.name]
    assert lease is not None and lease.address == str(guest.address), f"{guest.name} ended with {lease}"
    log = lab.ns.log("dnsmasq").lower()
    assert f"dhcpnak(eth1) {rogue_address} {guest.mac.lower()}" in log, "the router did not refuse the rogue's address"
