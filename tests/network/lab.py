"""The lab of DESIGN §1 in network namespaces, built from a stack's plan files (DESIGN §7.4).

    laptop (WAN, in adminCidrs) --+-- wan bridge --+-- router eth0 | eth1 --+-- lab bridge --+-- each guest
    gateway eth0 (wanGateway) ----+                                          (dnsmasq, nft)    (dhclient)
    gateway eth1 --+-- outside bridge --+-- outsider (not in adminCidrs)
                                        +-- upstream (the internet: an HTTP server)

The router is configured only from `router/network.json`, `router/nftables.nft` and
`router/dnsmasq.conf`; the guests' MACs come from `resources.json`; the laptop runs
the route commands the plan prints. The gateway also owns the upstream DNS
addresses (a DNS stand-in answering one probe name) and, like a home router
with static routes, routes the lab and the pool to the router for the outsider.
The addresses of the stand-ins come from documentation ranges clear of the config.
"""

from __future__ import annotations

import ipaddress
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from config.guests import Role, lab_guests
from config.models import LabConfig
from tests.network.inputs import PlanFiles
from tests.network.netns import CommandError, Namespaces

MANAGEMENT_PORTS = (22, 50000, 6443)
SITE_PORTS = (80, 443)
UNLISTED_PORT = 10250  # kubelet: something listens there, and the WAN must still be refused
DHCP_TIMEOUT = 10
OUTSIDE_CANDIDATES = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24", "100.64.0.0/24")
DEFAULT_LEASE_FILE = "/var/lib/misc/dnsmasq.leases"  # Debian's dnsmasq default
PROBE_SCRIPT = Path(__file__).with_name("dns_probe.py")

DHCLIENT_CONF = """timeout 10;
initial-interval 1;
request subnet-mask, broadcast-address, routers, domain-name-servers, host-name;
"""
# Replaces dhclient-script (which would rewrite the host's resolv.conf): records each event.
DHCLIENT_HOOK = """#!/bin/sh
printf 'reason=%s\\naddress=%s\\nmask=%s\\nrouters=%s\\ndns=%s\\nhostname=%s\\n--\\n' \\
  "$reason" "$new_ip_address" "$new_subnet_mask" "$new_routers" "$new_domain_name_servers" "$new_host_name" \\
  >>"$LEASE_RECORD"
"""
LEASE_EVENTS = ("BOUND", "RENEW", "REBIND", "REBOOT")


@dataclass(frozen=True)
class Lease:
    reason: str
    address: str
    mask: str
    routers: list[str]
    dns: list[str]
    hostname: str


@dataclass(frozen=True)
class Fetch:
    exit_code: int  # curl's: 0 ok, 7 refused, 28 timed out
    status: str
    body: str
    seconds: float
    stderr: str


@dataclass(frozen=True)
class StandIns:
    """Addresses of the machines the test adds around the lab."""

    outside: ipaddress.IPv4Network
    gateway_outside: ipaddress.IPv4Address
    outsider: ipaddress.IPv4Address
    upstream: ipaddress.IPv4Address
    laptop: ipaddress.IPv4Address


@dataclass
class Lab:
    stack: str
    config: LabConfig
    plan: PlanFiles
    ns: Namespaces
    stand_ins: StandIns
    leases: dict[str, Lease | None] = field(default_factory=dict)

    # --- who is where ---------------------------------------------------------

    @property
    def workdir(self) -> Path:
        return self.ns.workdir

    def guest(self, name: str) -> str:
        return self.ns.name(f"g-{name}")

    @property
    def router(self) -> str:
        return self.ns.name("router")

    @property
    def laptop(self) -> str:
        return self.ns.name("laptop")

    @property
    def outsider(self) -> str:
        return self.ns.name("outsider")

    @property
    def control_plane(self) -> str:
        return next(g.name for g in lab_guests(self.config) if g.role is Role.CONTROL_PLANE)

    @property
    def ingress_node(self) -> str:
        """The node that owns the ingress address: a worker, as MetalLB L2 announces from workers."""
        guests = lab_guests(self.config)
        workers = [g.name for g in guests if g.role is Role.WORKER]
        return workers[0] if workers else self.control_plane

    @property
    def client(self) -> str:
        return next(g.name for g in lab_guests(self.config) if g.role is Role.CLIENT)

    @property
    def site_page(self) -> str:
        return f"homelab network test page for {self.config.site.host} ({self.stack})\n"

    @property
    def probe_name(self) -> str:
        return f"probe.{self.stack}.homelab.test"

    # --- probes -----------------------------------------------------------------

    def fetch(self, ns: str, url: str, resolve: str | None = None) -> Fetch:
        command = ["curl", "-sS", "--connect-timeout", "2", "--max-time", "4", "-w", "\n%{http_code}"]
        command += ["--resolve", resolve] if resolve else []
        started = time.monotonic()
        result = self.ns.run(ns, *command, url, timeout=10)
        body, _, status = result.stdout.rpartition("\n")
        return Fetch(result.returncode, status, body, time.monotonic() - started, result.stderr.strip())

    def resolve(self, ns: str, server: str, name: str) -> subprocess.CompletedProcess[str]:
        return self.ns.run(ns, sys.executable, str(PROBE_SCRIPT), server, name, "1.5", timeout=10)

    def upstream_log(self) -> str:
        return self.ns.log("upstream-http")

    # --- DHCP -------------------------------------------------------------------

    def request_leases(self, names: list[str]) -> dict[str, Lease | None]:
        """Run dhclient once in each guest, in parallel; a guest's lease file makes it renew."""
        running = {name: self._dhclient(name) for name in names}
        leases: dict[str, Lease | None] = {}
        for name, process in running.items():
            try:
                process.wait(timeout=DHCP_TIMEOUT + 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            self._stop_dhclient_daemon(name)
            leases[name] = self._last_lease(name) if process.returncode == 0 else None
        return leases

    def _dhclient(self, name: str) -> subprocess.Popen[bytes]:
        files = self.workdir / "dhcp" / name
        files.mkdir(parents=True, exist_ok=True)
        command = ["dhclient", "-1", "-v", "-cf", str(self.workdir / "dhclient.conf")]
        command += ["-sf", str(self.workdir / "dhclient-hook"), "-e", f"LEASE_RECORD={files / 'record'}"]
        command += ["-pf", str(files / "pid"), "-lf", str(files / "leases"), "eth0"]
        with (self.workdir / f"dhclient-{name}.log").open("ab") as log:
            return subprocess.Popen(["ip", "netns", "exec", self.guest(name), *command], stdout=log, stderr=log)

    def _stop_dhclient_daemon(self, name: str) -> None:
        """dhclient -1 stays in the background to renew; the test renews explicitly instead."""
        pid_file = self.workdir / "dhcp" / name / "pid"
        if pid_file.exists():
            pid = pid_file.read_text(encoding="utf-8").strip()
            if pid.isdigit():
                subprocess.run(["kill", pid], capture_output=True, check=False)
            pid_file.unlink()

    def _last_lease(self, name: str) -> Lease | None:
        record = self.workdir / "dhcp" / name / "record"
        events = record.read_text(encoding="utf-8").split("--\n") if record.exists() else []
        fields = [dict(line.split("=", 1) for line in event.splitlines()) for event in events if event.strip()]
        bound = [event for event in fields if event.get("reason") in LEASE_EVENTS]
        if not bound:
            return None
        last = bound[-1]
        return Lease(
            reason=last["reason"],
            address=last["address"],
            mask=last["mask"],
            routers=last["routers"].split(),
            dns=last["dns"].split(),
            hostname=last["hostname"],
        )

    # --- dnsmasq ------------------------------------------------------------------

    def start_dnsmasq(self) -> None:
        """The rendered config as is; only the pid file and the lease file's folder are redirected.

        dnsmasq prefers the config file's `dhcp-leasefile` over the command line, so the
        lease folder is bind-mounted over the configured one in a private mount namespace.
        """
        conf = self.plan.router / "dnsmasq.conf"
        leases = self.workdir / "dnsmasq-leases"
        leases.mkdir(exist_ok=True)
        configured = Path(_lease_file(conf.read_text(encoding="utf-8"))).parent
        mount_then_run = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
        dnsmasq = ["dnsmasq", f"--conf-file={conf}", f"--pid-file={self.workdir / 'dnsmasq.pid'}"]
        dnsmasq += ["--keep-in-foreground", "--log-facility=-"]
        self.ns.spawn(
            self.router,
            "dnsmasq",
            *("unshare", "--mount", "--propagation", "private", "sh", "-c", mount_then_run, "sh"),
            *(str(leases), str(configured), *dnsmasq),
        )
        self.ns.wait_listening(self.router, "udp", "0.0.0.0", 67)
        self.ns.wait_listening(self.router, "tcp", str(self.config.network.router.address), 53)

    def restart_dnsmasq(self) -> None:
        self.ns.stop("dnsmasq")
        self.start_dnsmasq()


def _lease_file(conf: str) -> str:
    paths = [line.removeprefix("dhcp-leasefile=") for line in conf.splitlines() if line.startswith("dhcp-leasefile=")]
    return paths[-1] if paths else DEFAULT_LEASE_FILE


def stand_ins(config: LabConfig) -> StandIns:
    network = config.network
    taken = [
        network.cidr,
        network.router.wan_address.network,
        config.load_balancer.pool,
        config.cluster.pod_cidr,
        config.cluster.service_cidr,
        *network.admin_cidrs,
    ]
    outside = next(
        candidate
        for candidate in map(ipaddress.IPv4Network, OUTSIDE_CANDIDATES)
        if not any(candidate.overlaps(other) for other in taken)
        and not any(server in candidate for server in network.upstream_dns)
    )
    hosts = list(outside.hosts())
    return StandIns(outside, hosts[0], hosts[1], hosts[9], _laptop_address(config))


def _laptop_address(config: LabConfig) -> ipaddress.IPv4Address:
    """A free WAN address inside adminCidrs: the laptop sits next to the router, as in DESIGN §1."""
    router = config.network.router
    wan = router.wan_address.network
    used = {router.wan_address.ip, router.wan_gateway, *config.network.upstream_dns}
    for cidr in config.network.admin_cidrs:
        if cidr.overlaps(wan):
            inside = cidr if cidr.subnet_of(wan) else wan
            for host in inside.hosts():
                if host in cidr and host in wan and host not in used:
                    return host
    raise AssertionError(f"no adminCidrs address on the WAN subnet {wan}: this suite puts the laptop there")


def run_printed(lab: Lab, ns: str, command: str) -> None:
    """A command exactly as the plan prints it for the user (`sudo` is a no-op for root)."""
    words = shlex.split(command)
    words = words[1:] if words[:1] == ["sudo"] else words
    result = lab.ns.run(ns, *words)
    if result.returncode != 0:
        raise CommandError(f"{command!r} failed in {ns}: {result.stderr.strip()}")
