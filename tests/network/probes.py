"""Probes of the router's protections: forged sources, ping, open sessions, rogue advertisements.

Whether the router let a packet through is read from its connection tracking: an entry
is confirmed only for a packet that passed every hook, so a dropped one leaves none.
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
import sys
import time
from collections.abc import Generator

from tests.network.build import LAB_BRIDGE, SWITCH
from tests.network.lab import HERE, Lab

ROGUE_PREFIX = ipaddress.IPv6Network("2001:db8:bad::/64")


@contextlib.contextmanager
def _borrowed_address(lab: Lab, ns: str, address: str) -> Generator[None]:
    lab.ns.ip(ns, "address", "add", f"{address}/32", "dev", "eth0")
    try:
        yield
    finally:
        lab.ns.ip(ns, "address", "del", f"{address}/32", "dev", "eth0")


def router_passed(lab: Lab, source: str, destination: str) -> bool:
    listed = lab.ns.run(lab.router, "conntrack", "-L", "-s", source, "-d", destination)
    return bool(listed.stdout.strip())


def forged_syn_passed(lab: Lab, ns: str, source: str, destination: str, port: int) -> bool:
    """A TCP connection attempt from `ns` with a source address that is not its own."""
    lab.ns.run(lab.router, "conntrack", "-D", "-s", source, "-d", destination)
    with _borrowed_address(lab, ns, source):
        lab.ns.run(
            ns, "curl", "-sS", "--interface", source, "--connect-timeout", "0.5", f"http://{destination}:{port}/"
        )
    return router_passed(lab, source, destination)


def pings(lab: Lab, ns: str, address: str) -> bool:
    return lab.ns.run(ns, "ping", "-n", "-c", "1", "-W", "1", address).returncode == 0


class Session:
    """An open TCP connection from `ns` (tcp_session.py), used once later."""

    def __init__(self, lab: Lab, ns: str, host: str, port: int) -> None:
        command = ["ip", "netns", "exec", ns, sys.executable, str(HERE / "tcp_session.py"), host, str(port)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline().strip()
        if first != "connected":
            self.process.kill()
            raise AssertionError(f"no session to {host}:{port} from {ns}: {first!r}")

    def use(self) -> str:
        """`reply <status line>` or `error <reason>`."""
        output, _ = self.process.communicate("go\n", timeout=10)
        return output.strip()


def send_rogue_advertisements(lab: Lab, until_configured: str, timeout: float = 5) -> None:
    """Router advertisements from a rogue on the lab bridge until `until_configured` (a witness) took one."""
    rogue = lab.ns.add("rogue-ra")
    lab.ns.connect(lab.ns.name(SWITCH), LAB_BRIDGE, rogue, "eth0")
    lab.ns.ip(rogue, "-6", "address", "add", "fe80::bad/64", "dev", "eth0", "nodad")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lab.ns.run_host(
            "ip", "netns", "exec", rogue, sys.executable, str(HERE / "rogue_ra.py"), "eth0", str(ROGUE_PREFIX)
        )
        if slaac_addresses(lab, until_configured):
            return
        time.sleep(0.3)
    raise AssertionError(f"{until_configured} never took the rogue's advertisement: the probe is broken")


def slaac_addresses(lab: Lab, ns: str) -> list[str]:
    listed = lab.ns.ip(ns, "-6", "-o", "address", "show", "scope", "global")
    return [word for word in listed.split() if word.startswith(str(ROGUE_PREFIX.network_address)[:-1])]


def ipv6_default_routes(lab: Lab, ns: str) -> str:
    return lab.ns.ip(ns, "-6", "route", "show", "default").strip()
