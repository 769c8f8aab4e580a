"""Pinned host keys against a real sshd: the container the program keyed is reached, an impostor
at the same address gets no command and no stdin; the client's sshd lets in admins and the router only.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.proxmox.host_key_files import HOST_KEY_DROP_IN, HOST_KEY_FILE, install_host_key_command
from config.guests import client_guest
from tests.network.lab import Lab
from tests.network.netns import Namespaces
from tests.network.sshd import make_key, pinned_ssh, start_sshd
from tests.network.tools import require_root, require_tools

pytestmark = pytest.mark.network

ADMIN, CONTAINER = "10.250.0.1", "10.250.0.2"


@pytest.fixture
def wire(tmp_path: Path) -> Iterator[Namespaces]:
    """An admin and a container on one bridge: nothing between them but SSH."""
    require_root("sshd and its client run in network namespaces")
    require_tools("ssh", "ssh-keygen", "ssh-keyscan", "/usr/sbin/sshd")
    ns = Namespaces(f"hl{os.getpid()}-ssh", tmp_path)
    try:
        switch = ns.add("switch")
        ns.ip(switch, "link", "add", "sw0", "type", "bridge")
        ns.ip(switch, "link", "set", "sw0", "up")
        for role, address in (("admin", ADMIN), ("container", CONTAINER)):
            ns.connect(switch, "sw0", ns.add(role), "eth0")
            ns.ip(ns.name(role), "address", "add", f"{address}/24", "dev", "eth0")
        yield ns
    finally:
        ns.close()


def test_the_pinned_container_runs_the_command_an_impostor_at_its_address_gets_nothing(
    wire: Namespaces, tmp_path: Path
) -> None:
    ns = wire
    host_key, login = make_key(tmp_path, "host"), make_key(tmp_path, "management")
    start_sshd(ns, ns.name("container"), "sshd-real", address=CONTAINER, host_key=host_key, login_key=login)
    # What sshd offers after the install: the program's key and no other (Debian's own are not listed).
    scan = ns.run(ns.name("admin"), "ssh-keyscan", "-T", "3", CONTAINER, timeout=20)
    assert [line.split(None, 1)[1] for line in scan.stdout.splitlines()] == [host_key.public]
    marker = tmp_path / "ran-on-the-container"
    done = pinned_ssh(
        ns, ns.name("admin"), CONTAINER, pinned=host_key.public, login_key=login, command=f"touch {marker}"
    )
    assert done.returncode == 0, done.stderr
    assert marker.exists()

    # Someone else answers at the address (one ARP reply on the home LAN): same address, another key.
    ns.stop("sshd-real")
    impostor = make_key(tmp_path, "impostor")
    start_sshd(ns, ns.name("container"), "sshd-impostor", address=CONTAINER, host_key=impostor, login_key=login)
    stolen = tmp_path / "ran-on-the-impostor"
    refused = pinned_ssh(
        ns, ns.name("admin"), CONTAINER, pinned=host_key.public, login_key=login, command=f"touch {stolen}"
    )
    assert refused.returncode == 255
    assert "Host key verification failed." in refused.stderr
    assert not stolen.exists(), "the impostor ran the command"
    assert "Accepted publickey" not in ns.log("sshd-impostor"), "the impostor got as far as authentication"


def test_the_first_contact_installs_exactly_the_programs_key(tmp_path: Path) -> None:
    """The TOFU command: the private key from stdin becomes sshd's only host key, readable by root only."""
    require_tools("ssh-keygen")
    host_key = make_key(tmp_path, "host")
    ssh_dir = tmp_path / "etc-ssh"
    install = install_host_key_command(ssh_dir=str(ssh_dir), reload="true")
    subprocess.run(["bash", "-c", install], input=host_key.private.read_bytes(), check=True, timeout=30)
    installed = ssh_dir / HOST_KEY_FILE
    assert installed.read_bytes() == host_key.private.read_bytes()
    assert installed.stat().st_mode & 0o777 == 0o600
    assert installed.with_suffix(".pub").read_text(encoding="utf-8").split()[:2] == host_key.public.split()
    assert (ssh_dir / HOST_KEY_DROP_IN).read_text(encoding="utf-8").splitlines()[1:] == [f"HostKey {installed}"]


def test_the_clients_sshd_lets_in_admins_and_the_router_never_a_lab_guest(lab: Lab, tmp_path: Path) -> None:
    require_tools("ssh", "ssh-keygen", "/usr/sbin/sshd")
    config = lab.config
    client = lab.guest(lab.client)
    address = lab.address(lab.client)
    host_key, login = make_key(tmp_path, "client-host"), make_key(tmp_path, "client-management")
    # What TalosClient installs: the admins' networks and the router's LAN address.
    allowed = [*map(str, config.network.admin_cidrs), f"{config.network.router.address}/32"]
    label = f"sshd-{client_guest(config).name}"
    start_sshd(lab.ns, client, label, address=address, host_key=host_key, login_key=login, allowed_sources=allowed)
    try:
        for who, ns in (("laptop (admin)", lab.laptop), ("router", lab.router)):
            done = pinned_ssh(lab.ns, ns, address, pinned=host_key.public, login_key=login, command="true")
            assert done.returncode == 0, f"{who} -> client sshd: {done.stderr}"
        for guest in (lab.control_plane, lab.ingress_node):
            marker = tmp_path / f"ran-for-{guest}"
            refused = pinned_ssh(
                lab.ns, lab.guest(guest), address, pinned=host_key.public, login_key=login, command=f"touch {marker}"
            )
            assert refused.returncode == 255, f"{guest} logged in to the client"
            assert "Permission denied" in refused.stderr or "closed" in refused.stderr, refused.stderr
            assert not marker.exists()
        assert "not allowed because not listed in AllowUsers" in lab.ns.log(label)
    finally:
        lab.ns.stop(label)
