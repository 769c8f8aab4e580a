"""Real DHCP clients (ISC dhclient) in the guests' namespaces, their leases as data.

dhclient runs once (`-1`) per guest with its own config, pid and lease files in the
lab's folder, and a hook in place of dhclient-script (which would rewrite the host's
resolv.conf): the hook records each event and the test configures the interface.
A second run with the same lease file renews the lease (INIT-REBOOT).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 10  # seconds dhclient tries before giving up (exit 2)
CONF = """timeout {timeout};
initial-interval 1;
request subnet-mask, broadcast-address, routers, domain-name-servers, host-name;
"""
HOOK = """#!/bin/sh
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


class DhcpClients:
    def __init__(self, folder: Path, timeout: int = TIMEOUT) -> None:
        self.folder = folder
        self.timeout = timeout
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dhclient.conf").write_text(CONF.format(timeout=timeout), encoding="utf-8")
        (folder / "hook").write_text(HOOK, encoding="utf-8")
        (folder / "hook").chmod(0o755)

    def request(self, namespaces: dict[str, str]) -> dict[str, Lease | None]:
        """One dhclient per guest (name -> namespace), all at once; None where no lease came."""
        running = {name: self._start(name, ns) for name, ns in namespaces.items()}
        leases: dict[str, Lease | None] = {}
        for name, process in running.items():
            try:
                process.wait(timeout=self.timeout + 5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
            self._stop_daemon(name)
            leases[name] = self.last_lease(name) if process.returncode == 0 else None
        return leases

    def log(self, name: str) -> Path:
        return self.folder / name / "dhclient.log"

    def _start(self, name: str, ns: str) -> subprocess.Popen[bytes]:
        files = self.folder / name
        files.mkdir(exist_ok=True)
        command = ["dhclient", "-1", "-v", "-cf", str(self.folder / "dhclient.conf"), "-sf", str(self.folder / "hook")]
        command += ["-e", f"LEASE_RECORD={files / 'record'}", "-pf", str(files / "pid"), "-lf", str(files / "leases")]
        with self.log(name).open("ab") as log:
            return subprocess.Popen(["ip", "netns", "exec", ns, *command, "eth0"], stdout=log, stderr=log)

    def _stop_daemon(self, name: str) -> None:
        """Once bound, dhclient -1 stays in the background to renew; the tests renew explicitly."""
        pid_file = self.folder / name / "pid"
        if pid_file.exists():
            with contextlib.suppress(ValueError, ProcessLookupError):
                os.kill(int(pid_file.read_text(encoding="utf-8").strip()), signal.SIGTERM)
            pid_file.unlink()

    def last_lease(self, name: str) -> Lease | None:
        record = self.folder / name / "record"
        events = record.read_text(encoding="utf-8").split("--\n") if record.exists() else []
        parsed = [dict(line.split("=", 1) for line in event.splitlines()) for event in events if event.strip()]
        bound = [event for event in parsed if event.get("reason") in LEASE_EVENTS]
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
