"""The network probes of `homelab check`: each answers within its timeout, none needs credentials."""

from __future__ import annotations

import enum
import errno
import http.client
import re
import shutil
import socket
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

_PAGE_LIMIT = 65536  # the example page is a few hundred bytes


class Answer(enum.Enum):
    OPEN = "accepts connections"
    REFUSED = "refuses connections"
    SILENT = "does not answer"
    UNREACHABLE = "is unreachable (no route)"


def tcp(address: str, port: int, timeout: float) -> Answer:
    """How `address:port` answers a TCP connection attempt."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return Answer.OPEN
    except ConnectionRefusedError:
        return Answer.REFUSED
    except TimeoutError:
        return Answer.SILENT
    except OSError as error:
        if error.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL):
            return Answer.UNREACHABLE
        if error.errno == errno.ECONNRESET:
            return Answer.REFUSED
        return Answer.SILENT


def hosts_entries(text: str, host: str) -> list[str]:
    """The addresses a hosts file gives `host` (comments ignored), in file order."""
    found: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and host.lower() in (name.lower() for name in words[1:]):
            found.append(words[0])
    return found


def read_hosts(path: Path, host: str) -> list[str]:
    try:
        return hosts_entries(path.read_text(encoding="utf-8", errors="replace"), host)
    except OSError:
        return []


@dataclass(frozen=True)
class Route:
    gateway: str | None  # the next hop, None when the destination is on-link or unroutable
    text: str  # what the system said, for the message


def route_to(destination: str, timeout: float) -> Route:
    """The system's route to `destination`: `ip route get` (Linux) or `route -n get` (macOS)."""
    if shutil.which("ip"):
        command, pattern = ["ip", "route", "get", destination], r"\bvia (\S+)"
    elif shutil.which("route"):
        command, pattern = ["route", "-n", "get", destination], r"gateway: (\S+)"
    else:
        return Route(None, "neither `ip` nor `route` is installed")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Route(None, f"`{' '.join(command)}` did not answer within {timeout:g} s")
    text = " ".join((result.stdout.strip() or result.stderr.strip()).split())
    match = re.search(pattern, result.stdout) if result.returncode == 0 else None
    return Route(match[1] if match else None, text)


@dataclass(frozen=True)
class Page:
    answer: Answer
    status: int | None = None
    body: str = ""
    error: str = ""  # a TLS or HTTP protocol error


def get_page(address: str, port: int, host: str, timeout: float, ca_file: Path | None = None) -> Page:
    """GET / from `address:port` for `host` (plain HTTP, or HTTPS verified against `ca_file`)."""
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except OSError:
        return Page(tcp(address, port, timeout))
    try:
        if ca_file is not None:
            sock = ssl.create_default_context(cafile=str(ca_file)).wrap_socket(sock, server_hostname=host)
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        connection.sock = sock
        connection.request("GET", "/", headers={"Host": host, "User-Agent": "homelab-check"})
        response = connection.getresponse()
        body = response.read(_PAGE_LIMIT).decode("utf-8", errors="replace")
        return Page(Answer.OPEN, response.status, body)
    except (OSError, http.client.HTTPException) as error:
        return Page(Answer.OPEN, error=str(error) or type(error).__name__)
    finally:
        sock.close()
