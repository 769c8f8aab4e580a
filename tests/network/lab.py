"""The lab of DESIGN §1 in network namespaces (built by `tests.network.build`), and its probes.

laptop (in adminCidrs) ---+                  +-- router --+
gateway eth0 -------------+-- wan bridge ----+ eth0  eth1 +-- lab bridge --+-- one namespace per guest
gateway eth1 --+-- outside bridge --+-- outsider (not in adminCidrs)
                                    +-- upstream (the internet: an HTTP server)
"""

from __future__ import annotations

import ipaddress
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from config.guests import Role, lab_guests
from config.models import LabConfig
from tests.network.dhcp import DhcpClients, Lease
from tests.network.inputs import PlanFiles
from tests.network.netns import Namespaces

HERE = Path(__file__).parent
DEFAULT_LEASE_FILE = "/var/lib/misc/dnsmasq.leases"  # Debian's dnsmasq, when the config names none
REFUSED = 7  # curl: failed to connect (connection refused)
FAST = 1.5  # seconds: a refusal is an immediate answer, not a timeout


@dataclass(frozen=True)
class Fetch:
    exit_code: int  # curl's: 0 ok, 7 refused, 28 timed out
    status: str
    body: str
    seconds: float
    stderr: str


@dataclass(frozen=True)
class StandIns:
    """Addresses of the machines the test adds around the lab (see `build.stand_ins`)."""

    outside: ipaddress.IPv4Network
    gateway_outside: ipaddress.IPv4Address
    outsider: ipaddress.IPv4Address
    upstream: ipaddress.IPv4Address
    laptop: ipaddress.IPv4Address
    home: ipaddress.IPv4Address  # a home-LAN host beside the laptop (the Proxmox API, SSH)


@dataclass
class Lab:
    stack: str
    config: LabConfig
    plan: PlanFiles
    ns: Namespaces
    stand_ins: StandIns
    dhcp: DhcpClients
    leases: dict[str, Lease | None] = field(default_factory=dict)

    @property
    def workdir(self) -> Path:
        return self.ns.workdir

    def guest(self, name: str) -> str:
        return self.ns.name(f"g-{name}")

    @property
    def guests(self) -> dict[str, str]:
        return {guest.name: self.guest(guest.name) for guest in lab_guests(self.config)}

    @property
    def router(self) -> str:
        return self.ns.name("router")

    @property
    def laptop(self) -> str:
        return self.ns.name("laptop")

    @property
    def outsider(self) -> str:
        return self.ns.name("outsider")

    def _first(self, role: Role) -> str | None:
        return next((guest.name for guest in lab_guests(self.config) if guest.role is role), None)

    @property
    def control_plane(self) -> str:
        return str(self._first(Role.CONTROL_PLANE))

    @property
    def ingress_node(self) -> str:
        """The node owning the ingress address: a worker, as MetalLB L2 announces from workers."""
        return self._first(Role.WORKER) or self.control_plane

    @property
    def client(self) -> str:
        return str(self._first(Role.CLIENT))

    def address(self, name: str) -> str:
        """The reserved address of the guest `name`."""
        return next(str(guest.address) for guest in lab_guests(self.config) if guest.name == name)

    def free_addresses(self) -> list[ipaddress.IPv4Address]:
        """Addresses of the lab subnet that no guest, the router or the VIP uses."""
        network = self.config.network
        used = {network.router.address, self.config.cluster.vip, *(g.address for g in lab_guests(self.config))}
        return [host for host in network.cidr.hosts() if host not in used]

    @property
    def site_page(self) -> str:
        return f"homelab network test page for {self.config.site.host} ({self.stack})\n"

    @property
    def probe_name(self) -> str:
        return f"probe.{self.stack}.homelab.test"

    @property
    def rebinding_answers(self) -> dict[str, str]:
        """Public names the upstream DNS points at a home-LAN and a loopback address."""
        return {
            f"rebind-home.{self.stack}.homelab.test": str(self.stand_ins.home),
            f"rebind-loopback.{self.stack}.homelab.test": "127.0.0.1",
        }

    # --- probes -------------------------------------------------------------------

    def fetch(self, ns: str, url: str, resolve: str | None = None, connect_timeout: float = 2) -> Fetch:
        command = ["curl", "-sS", "--noproxy", "*", "--connect-timeout", str(connect_timeout), "--max-time", "4"]
        command += ["-w", "\n%{http_code}", *(["--resolve", resolve] if resolve else []), url]
        started = time.monotonic()
        result = self.ns.run(ns, *command, timeout=10)
        body, _, status = result.stdout.rpartition("\n")
        return Fetch(result.returncode, status, body, time.monotonic() - started, result.stderr.strip())

    def resolve(self, ns: str, server: str, name: str) -> subprocess.CompletedProcess[str]:
        """Ask `server` for `name` (A) from `ns`: exit 0 and the addresses, or exit 1."""
        return self.ns.run(ns, sys.executable, str(HERE / "dns_probe.py"), server, name, "1", timeout=10)

    def http_server(self, ns: str, label: str, port: int, page: str = "") -> None:
        root = self.workdir / "www" / label
        root.mkdir(parents=True)
        if page:
            (root / "index.html").write_text(page, encoding="utf-8")
        self.ns.spawn(ns, label, sys.executable, str(HERE / "http_stub.py"), str(port), str(root))

    def request_leases(self) -> dict[str, Lease | None]:
        return self.dhcp.request(self.guests)

    # --- the firewall, as nftables.service runs it (with the router's drop-in) -------------

    def load_firewall(self, ruleset: Path) -> bool:
        """Start: forwarding off, load the ruleset, forwarding on only if it loaded."""
        forwarding: dict[str, str] = self.plan.network.get("forwarding", {})
        for key in forwarding:
            self.ns.sysctl(self.router, key, "0")
        loaded = self.ns.run(self.router, "nft", "-f", str(ruleset)).returncode == 0
        if loaded:
            for key, value in forwarding.items():
                self.ns.sysctl(self.router, key, value)
        return loaded

    def stop_firewall(self) -> None:
        """Stop: forwarding off, then the ruleset goes."""
        for key in self.plan.network.get("forwarding", {}):
            self.ns.sysctl(self.router, key, "0")
        self.ns.run_host("ip", "netns", "exec", self.router, "nft", "flush", "ruleset")

    def reload_firewall(self, ruleset: Path) -> None:
        """Reload: `nft -f` again, nothing else."""
        self.ns.run_host("ip", "netns", "exec", self.router, "nft", "-f", str(ruleset))

    @property
    def ruleset(self) -> Path:
        return self.plan.router / "nftables.nft"

    # --- dnsmasq --------------------------------------------------------------------

    def start_dnsmasq(self, conf: Path | None = None) -> None:
        """The rendered config (the plan's, unless given) as it is; only the pid file and the lease
        file's folder are redirected.

        dnsmasq lets the config file's `dhcp-leasefile` win over the command line, so a
        folder of the lab is bind-mounted over the configured one, in a private mount namespace.
        """
        conf = conf or self.plan.router / "dnsmasq.conf"
        leases = self.workdir / "dnsmasq-leases"
        leases.mkdir(exist_ok=True)
        configured = Path(_lease_file(conf.read_text(encoding="utf-8"))).parent
        mount_then_run = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
        dnsmasq = ["dnsmasq", f"--conf-file={conf}", f"--pid-file={self.workdir / 'dnsmasq.pid'}"]
        dnsmasq += ["--keep-in-foreground", "--log-facility=-"]
        unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c", mount_then_run, "sh"]
        self.ns.spawn(self.router, "dnsmasq", *unshare, str(leases), str(configured), *dnsmasq)
        self.ns.wait_listening(self.router, "udp", "0.0.0.0", 67)
        self.ns.wait_listening(self.router, "tcp", str(self.config.network.router.address), 53)

    def restart_dnsmasq(self, conf: Path | None = None) -> None:
        self.ns.stop("dnsmasq")
        self.start_dnsmasq(conf)

    def lease_file(self) -> Path:
        conf = (self.plan.router / "dnsmasq.conf").read_text(encoding="utf-8")
        return self.workdir / "dnsmasq-leases" / Path(_lease_file(conf)).name


def _lease_file(conf: str) -> str:
    paths = [line.removeprefix("dhcp-leasefile=") for line in conf.splitlines() if line.startswith("dhcp-leasefile=")]
    return paths[-1] if paths else DEFAULT_LEASE_FILE
