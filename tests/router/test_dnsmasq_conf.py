"""The router's dnsmasq.conf: reservations, names, rebinding protection, lease limit, `dnsmasq --test`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.router.files import render_router_files
from config.guests import lab_guests
from config.models import LabConfig
from tests.network.tools import require_tools
from tests.router.rendered import files, lines, with_dynamic_range
from tests.support import STACKS, stack_config


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_one_reservation_per_guest(stack: str) -> None:
    hosts = [line.split(",") for line in lines(files(stack).dnsmasq_conf, "dhcp-host=")]
    guests = lab_guests(stack_config(stack))
    assert sorted(hosts) == sorted([guest.mac, str(guest.address), guest.name] for guest in guests)
    for guest in guests:
        assert sum(guest.mac in host for host in hosts) == 1, f"{guest.name}: not exactly one dhcp-host line"


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_the_lab_dns_knows_the_router_every_guest_and_the_site(stack: str) -> None:
    config = stack_config(stack)
    records = lines(files(stack).dnsmasq_conf, "host-record=")
    expected = [f"{config.network.router.name},{config.network.router.address}"]
    expected += [f"{guest.name},{guest.address}" for guest in lab_guests(config)]
    expected += [f"{config.site.host},{config.load_balancer.ingress_address}"]
    assert records == expected


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_rebinding_protection_without_exceptions(stack: str) -> None:
    conf = files(stack).dnsmasq_conf.splitlines()
    assert "stop-dns-rebind" in conf
    assert not [line for line in conf if line.startswith(("rebind-localhost-ok", "rebind-domain-ok"))]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_dhcp_and_dns_only_on_the_lab_interface(stack: str) -> None:
    conf = files(stack).dnsmasq_conf
    assert lines(conf, "interface=") == ["eth1"]
    assert "bind-dynamic" in conf.splitlines(), "without bind-*, dnsmasq answers on every interface (the WAN too)"
    assert not [line for line in conf.splitlines() if "eth0" in line]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_router_is_gateway_and_dns_and_forwards_upstream(stack: str) -> None:
    config = stack_config(stack)
    conf = files(stack).dnsmasq_conf
    router = str(config.network.router.address)
    assert lines(conf, "dhcp-option=") == [f"option:router,{router}", f"option:dns-server,{router}"]
    assert lines(conf, "server=") == [str(server) for server in config.network.upstream_dns]
    assert {"no-resolv", "dhcp-authoritative"} <= set(conf.splitlines())
    assert lines(conf, "dhcp-leasefile=") == ["/var/lib/misc/dnsmasq.leases"]


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_static_range_only_by_default_and_a_lease_limit(stack: str) -> None:
    config = stack_config(stack)
    lan = config.network.cidr
    conf = files(stack).dnsmasq_conf
    assert lines(conf, "dhcp-range=") == [f"{lan.network_address},static,{lan.netmask},12h"]
    assert lines(conf, "dhcp-lease-max=") == [str(2 * len(lab_guests(config)))]


def test_dynamic_range_when_configured_with_its_lease_limit() -> None:
    config = with_dynamic_range()
    span = config.network.dynamic_range
    assert span is not None
    conf = render_router_files(config).dnsmasq_conf
    netmask = config.network.cidr.netmask
    assert lines(conf, "dhcp-range=") == [
        f"{config.network.cidr.network_address},static,{netmask},12h",
        f"{span.start},{span.end},{netmask},1h",
    ]
    assert lines(conf, "dhcp-lease-max=") == [str(2 * len(lab_guests(config)) + 50)]


def _dnsmasq_test(config_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    tools = require_tools("dnsmasq")
    conf = folder / "dnsmasq.conf"
    conf.write_text(config_text, encoding="utf-8")
    command = [tools["dnsmasq"], "--test", f"--conf-file={conf}"]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=10)


@pytest.mark.parametrize("config", [*sorted(STACKS), "dynamic-range"])
def test_dnsmasq_accepts_the_config(config: str, tmp_path: Path) -> None:
    lab: LabConfig = with_dynamic_range() if config == "dynamic-range" else stack_config(config)
    result = _dnsmasq_test(render_router_files(lab).dnsmasq_conf, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "syntax check OK" in result.stderr
