"""A real etcd (Debian's etcd-server) on free local ports in a temp dir, and etcdctl against it."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.network.tools import require_tools

START_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Etcd:
    endpoint: str
    data_dir: Path

    def ctl(self, *args: str, timeout: float = 30) -> str:
        done = subprocess.run(
            ["etcdctl", f"--endpoints={self.endpoint}", *args],
            env={**os.environ, "ETCDCTL_API": "3"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout

    def keys(self, prefix: str) -> dict[str, str]:
        lines = self.ctl("get", "--prefix", prefix).splitlines()
        return dict(zip(lines[0::2], lines[1::2], strict=True))


@contextmanager
def running_etcd(data_dir: Path, name: str = "lab", peer: int | None = None) -> Generator[Etcd]:
    """etcd serving `data_dir` (an empty one is initialised; a restored one, with its name and peer port, kept)."""
    require_tools("etcd", "etcdctl")
    client, peer = free_port(), peer or free_port()
    peer_url = f"http://127.0.0.1:{peer}"
    log = (data_dir.parent / f"{data_dir.name}.log").open("w")
    process = subprocess.Popen(
        [
            "etcd",
            f"--name={name}",
            f"--data-dir={data_dir}",
            f"--listen-client-urls=http://127.0.0.1:{client}",
            f"--advertise-client-urls=http://127.0.0.1:{client}",
            f"--listen-peer-urls={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
            f"--initial-cluster={name}={peer_url}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    etcd = Etcd(f"http://127.0.0.1:{client}", data_dir)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                etcd.ctl("endpoint", "health", timeout=5)
                break
            except subprocess.CalledProcessError:
                if process.poll() is not None or time.monotonic() > deadline:
                    log_text = (data_dir.parent / f"{data_dir.name}.log").read_text()
                    raise RuntimeError(f"etcd did not start: {log_text}") from None
                time.sleep(0.1)
        yield etcd
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def restore(snapshot: Path, data_dir: Path, name: str, peer: int) -> None:
    """`etcdutl snapshot restore` (etcdctl's on etcd 3.4, which ships no etcdutl) into `data_dir`."""
    peer_url = f"http://127.0.0.1:{peer}"
    tool = ["etcdutl"] if _has("etcdutl") else ["etcdctl"]
    subprocess.run(
        [
            *tool,
            "snapshot",
            "restore",
            str(snapshot),
            f"--data-dir={data_dir}",
            f"--name={name}",
            f"--initial-cluster={name}={peer_url}",
            f"--initial-advertise-peer-urls={peer_url}",
        ],
        env={**os.environ, "ETCDCTL_API": "3"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def _has(program: str) -> bool:
    return shutil.which(program) is not None
