"""`homelab check` without a lab: the hops of a stack, the walk, and each probe against local servers."""

from __future__ import annotations

import http.server
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from check.hops import CheckOptions, Hop, Outcome, hops, walk
from check.probes import Answer, get_page, hosts_entries, tcp
from tests.support import STACKS, run_homelab, stack_config

PAGE_HOST = "www.example.com"


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = f"<h1>{self.headers['Host']}</h1>\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(tls: ssl.SSLContext | None = None) -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def http_port() -> Iterator[int]:
    yield from _serve()


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def lab_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A lab CA, a certificate it signed for the site host, and an unrelated CA."""
    folder = tmp_path_factory.mktemp("ca")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"]
    for ca in ("lab-ca", "other-ca"):
        _openssl(
            "req", "-x509", *ec, "-subj", f"/CN={ca}", "-keyout", folder / f"{ca}.key", "-out", folder / f"{ca}.crt"
        )
    _openssl(
        "req",
        "-new",
        *ec[:-2],
        "-subj",
        f"/CN={PAGE_HOST}",
        "-keyout",
        folder / "site.key",
        "-out",
        folder / "site.csr",
    )
    (folder / "ext").write_text(f"subjectAltName=DNS:{PAGE_HOST}\n")
    _openssl(
        "x509", "-req", "-in", folder / "site.csr", "-CA", folder / "lab-ca.crt", "-CAkey", folder / "lab-ca.key",
        "-CAcreateserial", "-days", "1", "-extfile", folder / "ext", "-out", folder / "site.crt",
    )  # fmt: skip
    return folder / "lab-ca.crt", folder / "other-ca.crt", folder


def test_hosts_entries_read_names_not_comments() -> None:
    text = (
        "127.0.0.1 localhost\n# 10.0.0.1 www.example.com\n"
        "10.10.10.10 site WWW.example.com # lab\n1.2.3.4 www.example.com\n"
    )
    assert hosts_entries(text, PAGE_HOST) == ["10.10.10.10", "1.2.3.4"]
    assert hosts_entries("10.10.10.10 www.example.com.evil\n", PAGE_HOST) == []


def test_tcp_tells_open_from_refused(http_port: int) -> None:
    assert tcp("127.0.0.1", http_port, 1) is Answer.OPEN
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    assert tcp("127.0.0.1", port, 1) is Answer.REFUSED


def test_the_page_is_asked_for_the_site_host(http_port: int) -> None:
    page = get_page("127.0.0.1", http_port, PAGE_HOST, 2)
    assert (page.answer, page.status, page.body) == (Answer.OPEN, 200, f"<h1>{PAGE_HOST}</h1>\n")


def test_https_is_verified_against_the_lab_ca(lab_ca: tuple[Path, Path, Path]) -> None:
    ca, other, folder = lab_ca
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(folder / "site.crt", folder / "site.key")
    for port in _serve(tls):
        assert get_page("127.0.0.1", port, PAGE_HOST, 2, ca).status == 200
        refused = get_page("127.0.0.1", port, PAGE_HOST, 2, other)
        assert (refused.status, "CERTIFICATE_VERIFY_FAILED" in refused.error) == (None, True)


def test_the_walk_stops_at_the_first_broken_hop() -> None:
    probed: list[str] = []

    def hop(name: str, ok: bool) -> Hop:
        return Hop(name, lambda: probed.append(name) or Outcome(ok, name, "" if ok else f"mend {name}"))

    walked = [(h.name, o.ok) for h, o in walk([hop("a", True), hop("b", False), hop("c", True)])]
    assert walked == [("a", True), ("b", False)]
    assert probed == ["a", "b"]


def test_hops_follow_the_request_path_of_the_stack(tmp_path: Path) -> None:
    names = [hop.name for hop in hops(stack_config("dev"), CheckOptions(tmp_path / "hosts"))]
    assert names == [
        "hosts line",
        "route to 192.168.1.0/24",
        "route to 10.10.10.0/24",
        "router 192.168.0.200",
        "Talos API on cp-1 192.168.1.201:50000",
        "Kubernetes API on cp-1 192.168.1.201:6443",
        "site http://www.example.com/ at 10.10.10.10",
    ]
    ha = [hop.name for hop in hops(stack_config("ha"), CheckOptions(ca_file=tmp_path / "ca.crt"))]
    assert sum(name.startswith("Talos API on cp-") for name in ha) == 3
    assert ha[-3:] == [
        "Kubernetes API on the VIP 10.77.0.10:6443",
        "site http://site.lab.test/ at 10.88.8.5",
        "site https://site.lab.test/ at 10.88.8.5",
    ]


def test_check_names_a_missing_hosts_line_with_the_fix_at_once(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    started = time.monotonic()
    result = run_homelab("check", "--config-file", STACKS["dev"], "--hosts-file", hosts)
    assert result.returncode == 1, result.stderr
    assert "FAIL  hosts line: " in result.stdout
    assert f"fix: put this line in {hosts} (first for www.example.com): 10.10.10.10 www.example.com" in result.stdout
    assert "broken at hosts line (6 later hops not checked)" in result.stdout
    assert time.monotonic() - started < 10


def test_check_options_are_checked(tmp_path: Path) -> None:
    result = run_homelab("check", "--ca-file", tmp_path / "nope.crt")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"homelab check: --ca-file {tmp_path / 'nope.crt'} does not exist",
    )
