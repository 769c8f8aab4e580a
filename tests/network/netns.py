"""Network namespaces, veth links and processes of one test lab, all removed by `close`.

Every name starts with the lab's prefix (`hl<pid>-<n>`), so a run never touches
anything it did not create; the root namespace gets no link and no address.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

COMMAND_TIMEOUT = 10


class CommandError(AssertionError):
    """A command of the lab failed; the message carries its output."""


class Namespaces:
    def __init__(self, prefix: str, workdir: Path) -> None:
        self.prefix = prefix
        self.workdir = workdir
        self.created: list[str] = []
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._ports = 0

    def name(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    def add(self, role: str) -> str:
        name = self.name(role)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)  # a crashed run's leftover
        shutil.rmtree(Path("/etc/netns") / name, ignore_errors=True)
        self.created.append(name)
        self.run_host("ip", "netns", "add", name)
        self.ip(name, "link", "set", "lo", "up")
        return name

    def run_host(self, *command: str, timeout: float = COMMAND_TIMEOUT) -> str:
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
        if result.returncode != 0:
            raise CommandError(f"{' '.join(command)} exited {result.returncode}: {result.stderr.strip()}")
        return result.stdout

    def ip(self, ns: str, *args: str) -> str:
        return self.run_host("ip", "-n", ns, *args)

    def run(self, ns: str, *command: str, timeout: float = COMMAND_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run a command inside `ns`; the caller checks the result."""
        return subprocess.run(
            ["ip", "netns", "exec", ns, *command], capture_output=True, text=True, check=False, timeout=timeout
        )

    def sysctl(self, ns: str, key: str, value: str) -> None:
        self.run_host("ip", "netns", "exec", ns, "sysctl", "-q", "-w", f"{key}={value}")

    def resolver(self, ns: str, nameservers: list[str]) -> None:
        """`ip netns exec` mounts /etc/netns/<ns>/* over /etc: the namespace's own resolv.conf and hosts."""
        folder = Path("/etc/netns") / ns
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "resolv.conf").write_text("".join(f"nameserver {ip}\n" for ip in nameservers), encoding="utf-8")
        (folder / "hosts").write_text("127.0.0.1 localhost\n", encoding="utf-8")

    def connect(self, switch: str, bridge: str, ns: str, interface: str, mac: str | None = None) -> str:
        """A veth from `ns` (named `interface`) to a port of `bridge` in the switch namespace; the port's name."""
        self._ports += 1
        port = f"p{self._ports}"
        self.ip(switch, "link", "add", port, "type", "veth", "peer", "name", interface, "netns", ns)
        if mac is not None:
            self.ip(ns, "link", "set", interface, "address", mac)
        self.ip(switch, "link", "set", port, "master", bridge, "up")
        self.ip(ns, "link", "set", interface, "up")
        return port

    def spawn(self, ns: str, label: str, *command: str) -> subprocess.Popen[bytes]:
        """A long-running process in `ns`, its output in `<workdir>/<label>.log`."""
        self.stop(label)
        with (self.workdir / f"{label}.log").open("ab") as log:
            process = subprocess.Popen(
                ["ip", "netns", "exec", ns, *command], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.processes[label] = process
        return process

    def log(self, label: str) -> str:
        path = self.workdir / f"{label}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def stop(self, label: str) -> None:
        process = self.processes.pop(label, None)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=3)

    def wait_listening(self, ns: str, protocol: str, address: str, port: int, timeout: float = 5) -> None:
        """Until something in `ns` listens on address:port (`ss`), or fail."""
        flag = "-Hltn" if protocol == "tcp" else "-Hlun"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # "0.0.0.0%eth1:67": bound to an interface
            listening = {
                re.sub(r"%[^:]*", "", word) for word in self.run(ns, "ss", flag, f"sport = :{port}").stdout.split()
            }
            if f"{address}:{port}" in listening or f"0.0.0.0:{port}" in listening or f"*:{port}" in listening:
                return
            time.sleep(0.05)
        raise CommandError(f"nothing listens on {protocol} {address}:{port} in {ns} after {timeout}s")

    def close(self) -> None:
        """Stop every process and delete every namespace (their links and bridges go with them)."""
        for label in list(self.processes):
            self.stop(label)
        for ns in reversed(self.created):
            self._kill_remaining(ns)
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
            shutil.rmtree(Path("/etc/netns") / ns, ignore_errors=True)
        self.created.clear()

    def _kill_remaining(self, ns: str) -> None:
        """Processes that outlived their parent in `ns` (e.g. dhclient daemons), by pid."""
        pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
