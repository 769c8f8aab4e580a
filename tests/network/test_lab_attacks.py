"""Attacks on the router from the lab and the WAN side, each against the rendered files.

Forged sources both ways, an admin's address forged from the lab, a rogue router
advertisement, DNS rebinding, a revoked admin's open sessions, a router whose ruleset
is stopped or fails to load, and a failed reload (which must leave the old ruleset).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from components.router.files import render_router_files
from tests.network.build import other_pool_address
from tests.network.lab import Lab
from tests.network.netns import CommandError
from tests.network.probes import (
    Session,
    forged_syn_passed,
    ipv6_default_routes,
    send_rogue_advertisements,
    slaac_addresses,
)

pytestmark = pytest.mark.network


def test_forged_sources_from_the_lab_do_not_leave_by_the_wan(lab: Lab) -> None:
    client, upstream = lab.guest(lab.client), str(lab.stand_ins.upstream)
    own = lab.address(lab.client)
    assert forged_syn_passed(lab, client, own, upstream, 80), "the probe is broken: the guest's own address"
    forged = {
        "an internet address": str(list(lab.stand_ins.outside.hosts())[99]),
        "the admin's laptop": str(lab.stand_ins.laptop),
        "a pool address": str(other_pool_address(lab.config)),
    }
    for what, source in forged.items():
        assert not forged_syn_passed(lab, client, source, upstream, 80), f"{what} ({source}) forged from the lab"


def test_forged_lab_and_pool_sources_from_the_wan_are_dropped(lab: Lab) -> None:
    ingress = str(lab.config.load_balancer.ingress_address)
    assert forged_syn_passed(lab, lab.laptop, str(lab.stand_ins.laptop), ingress, 80), "the probe is broken"
    for source in (str(lab.free_addresses()[-1]), str(other_pool_address(lab.config))):
        assert not forged_syn_passed(lab, lab.laptop, source, ingress, 80), f"{source} forged from the WAN"


def test_admin_address_forged_from_the_lab_gets_no_ssh(lab: Lab) -> None:
    router = lab.config.network.router
    for target in (str(router.address), str(router.wan_address.ip)):
        passed = forged_syn_passed(lab, lab.guest(lab.client), str(lab.stand_ins.laptop), target, 22)
        assert not passed, f"the laptop's address forged from the lab reached the router's SSH at {target}"


def test_rogue_router_advertisement_gives_the_router_nothing(lab: Lab) -> None:
    witness = lab.ns.add("witness")
    lab.ns.connect(lab.ns.name("switch"), "lab", witness, "eth0")
    send_rogue_advertisements(lab, until_configured=witness)
    assert slaac_addresses(lab, lab.router) == [], "the router took an address from a rogue advertisement"
    assert ipv6_default_routes(lab, lab.router) == "", "the router took a default route from a rogue"


def test_dns_rebinding_answers_are_dropped(lab: Lab) -> None:
    router, upstream_dns = str(lab.config.network.router.address), str(lab.config.network.upstream_dns[0])
    for name, address in lab.rebinding_answers.items():
        direct = lab.resolve(lab.ns.name("gateway"), upstream_dns, name)
        assert direct.stdout.split() == [address], f"the upstream stand-in must answer {name}: {direct.stdout}"
        through = lab.resolve(lab.guest(lab.client), router, name)
        assert address not in through.stdout.split(), f"{name} -> {address} passed the router's DNS"


def _write(lab: Lab, name: str, text: str) -> Path:
    path = lab.workdir / name
    path.write_text(text, encoding="utf-8")
    return path


def test_revoked_admin_loses_its_open_sessions(lab: Lab) -> None:
    laptop = lab.stand_ins.laptop
    network = lab.config.network.model_copy(update={"admin_cidrs": [ipaddress.IPv4Network(f"{laptop + 1}/32")]})
    revoked = _write(
        lab, "revoked.nft", render_router_files(lab.config.model_copy(update={"network": network})).nftables_nft
    )
    targets = [lab.address(lab.control_plane), str(lab.config.network.router.wan_address.ip)]
    try:
        kept = Session(lab, lab.laptop, targets[0], 22)
        lab.reload_firewall(lab.ruleset)  # the same ruleset again: open sessions go on
        assert kept.use().startswith("reply HTTP/1.0 200"), "a reload must not cut admitted sessions"
        sessions = [Session(lab, lab.laptop, target, 22) for target in targets]
        lab.reload_firewall(revoked)
        for target, session in zip(targets, sessions, strict=True):
            result = session.use()
            assert result.startswith("error"), f"the revoked laptop's session to {target}:22 went on: {result}"
        fresh = lab.fetch(lab.laptop, f"http://{targets[0]}:22/")
        assert fresh.exit_code != 0, f"the revoked laptop opened a new session: {fresh}"
    finally:
        lab.reload_firewall(lab.ruleset)


def _forwards_anything(lab: Lab) -> list[str]:
    control_plane = lab.address(lab.control_plane)
    probes = [
        (lab.guest(lab.client), f"http://{lab.stand_ins.upstream}/"),
        (lab.outsider, f"http://{control_plane}:10250/"),
        (lab.laptop, f"http://{control_plane}:22/"),
    ]
    passed = [(ns, url, lab.fetch(ns, url, connect_timeout=1)) for ns, url in probes]
    return [f"{ns} -> {url}" for ns, url, fetch in passed if fetch.exit_code == 0]


def test_router_without_its_ruleset_forwards_nothing(lab: Lab) -> None:
    broken = _write(
        lab, "broken.nft", lab.ruleset.read_text(encoding="utf-8") + "table inet late {\n\tjump nowhere\n}\n"
    )
    try:
        lab.stop_firewall()
        assert _forwards_anything(lab) == [], "forwarding with the firewall stopped"
        assert not lab.load_firewall(broken), "the broken ruleset loaded"
        assert _forwards_anything(lab) == [], "forwarding after the ruleset failed to load"
    finally:
        assert lab.load_firewall(lab.ruleset)
    assert len(_forwards_anything(lab)) == 2, "with its ruleset the router forwards again (guest out, admin in)"


def test_failed_reload_keeps_the_loaded_ruleset(lab: Lab) -> None:
    before = lab.ns.run(lab.router, "nft", "list", "ruleset").stdout
    broken = _write(
        lab, "broken-reload.nft", lab.ruleset.read_text(encoding="utf-8") + "table inet late {\n\tjump nowhere\n}\n"
    )
    with pytest.raises(CommandError):
        lab.reload_firewall(broken)
    assert lab.ns.run(lab.router, "nft", "list", "ruleset").stdout == before, "a failed reload changed the ruleset"
    assert len(_forwards_anything(lab)) == 2, "after a failed reload the router filters and forwards as before"
