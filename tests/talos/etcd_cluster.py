"""A real etcd cluster on loopback (Debian's etcd-server), standing in for the control planes' etcd.

Each member is named after a control plane and keyed by that node's lab address: the stand-in
talosctl (tests/talos/standin_talosctl.py) maps `talosctl --nodes <address> etcd ...` onto
`etcdctl` against the member of that address. Nothing listens outside 127.0.0.1.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Generator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTUP_SECONDS = 30
# etcd refuses a member removal until the others have been connected this long (etcdserver HealthInterval,
# checked with --strict-reconfig-check, its default): a cluster that just came up is not yet "healthy".
SETTLE_SECONDS = 5.5


@dataclass
class EtcdMember:
    name: str
    address: str
    """The control plane's lab address the member stands for (never dialled)."""
    client_url: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """The node is gone: its etcd no longer answers."""
        self.process.kill()
        self.process.wait(timeout=10)


@dataclass
class EtcdCluster:
    members: dict[str, EtcdMember]
    """By lab address."""
    map_file: Path

    def member_names(self, via: str | None = None) -> list[str]:
        """`etcdctl member list` through one answering member (the first one given, or any)."""
        etcdctl = _tool("etcdctl")
        candidates = [self.members[via]] if via else list(self.members.values())
        for member in candidates:
            if member.process.poll() is not None:
                continue
            done = subprocess.run(
                [etcdctl, f"--endpoints={member.client_url}", "--command-timeout=5s", "member", "list", "-w", "json"],
                capture_output=True,
                text=True,
                check=False,
                timeout=15,
            )
            if done.returncode == 0:
                return sorted(m["name"] for m in json.loads(done.stdout)["members"])
        raise AssertionError("no etcd member answers")

    def healthy(self, address: str) -> bool:
        done = subprocess.run(
            [
                _tool("etcdctl"),
                f"--endpoints={self.members[address].client_url}",
                "--command-timeout=5s",
                "endpoint",
                "health",
            ],
            capture_output=True,
            check=False,
            timeout=15,
        )
        return done.returncode == 0


def _tool(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/sbin")
    if path is None:
        pytest.fail(f"{name} is missing: install Debian's etcd-server and etcd-client")
    return path


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for each in sockets:
            each.bind(("127.0.0.1", 0))
        return [each.getsockname()[1] for each in sockets]
    finally:
        for each in sockets:
            each.close()


@contextmanager
def etcd_cluster(directory: Path, nodes: dict[str, str]) -> Generator[EtcdCluster]:
    """Starts one member per `address -> name`, waits until every member answers, stops them after."""
    etcd = _tool("etcd")
    ports = _free_ports(2 * len(nodes))
    peers = {name: f"http://127.0.0.1:{ports[2 * i + 1]}" for i, name in enumerate(nodes.values())}
    initial = ",".join(f"{name}={url}" for name, url in peers.items())
    members: dict[str, EtcdMember] = {}
    try:
        for i, (address, name) in enumerate(nodes.items()):
            client = f"http://127.0.0.1:{ports[2 * i]}"
            log = (directory / f"{name}.log").open("wb")
            process = subprocess.Popen(
                [
                    etcd,
                    f"--name={name}",
                    f"--data-dir={directory / name}",
                    f"--listen-client-urls={client}",
                    f"--advertise-client-urls={client}",
                    f"--listen-peer-urls={peers[name]}",
                    f"--initial-advertise-peer-urls={peers[name]}",
                    f"--initial-cluster={initial}",
                    "--initial-cluster-state=new",
                    "--initial-cluster-token=homelab-test",
                    "--heartbeat-interval=50",
                    "--election-timeout=500",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            members[address] = EtcdMember(name=name, address=address, client_url=client, process=process)
        map_file = directory / "members.json"
        map_file.write_text(
            json.dumps({a: {"name": m.name, "client": m.client_url} for a, m in members.items()}), encoding="utf-8"
        )
        cluster = EtcdCluster(members=members, map_file=map_file)
        deadline = time.monotonic() + STARTUP_SECONDS
        while not all(cluster.healthy(address) for address in members):
            if time.monotonic() > deadline:
                raise AssertionError(f"etcd did not come up in {STARTUP_SECONDS} s: see {directory}/*.log")
            time.sleep(0.2)
        time.sleep(SETTLE_SECONDS)
        yield cluster
    finally:
        for member in members.values():
            if member.process.poll() is None:
                member.process.kill()
            member.process.wait(timeout=10)
