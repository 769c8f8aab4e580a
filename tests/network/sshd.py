"""A real OpenSSH server in a namespace, configured by what the program installs in a container.

The host key and the access rules are written by the program's own commands
(`components.proxmox.host_key_files`), run against a scratch folder instead of /etc/ssh;
the client is OpenSSH with `StrictHostKeyChecking=yes` and a known_hosts made from the
pinned key, which is what pulumi-command does once `host_key` is set (a fixed key,
only its algorithm offered).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from components.proxmox.host_key_files import (
    install_access_command,
    install_host_key_command,
    known_hosts_line,
    render_access_drop_in,
)
from tests.network.netns import Namespaces


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: str
    """The authorized_keys line, as pulumi_tls gives `public_key_openssh`."""


def make_key(folder: Path, name: str) -> KeyPair:
    """An ED25519 key in OpenSSH format, what `pulumi_tls.PrivateKey` makes as `private_key_openssh`."""
    path = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)], check=True, timeout=30)
    return KeyPair(path, " ".join(path.with_suffix(".pub").read_text(encoding="utf-8").split()[:2]))


def start_sshd(
    ns: Namespaces,
    netns: str,
    label: str,
    *,
    address: str,
    host_key: KeyPair,
    login_key: KeyPair,
    allowed_sources: list[str] | None = None,
) -> Path:
    """sshd on address:22 in `netns` with `host_key` installed as the program installs it; its folder."""
    ssh_dir = ns.workdir / label
    (ssh_dir / "sshd_config.d").mkdir(parents=True)
    install = install_host_key_command(ssh_dir=str(ssh_dir), reload="true")
    subprocess.run(["bash", "-c", install], input=host_key.private.read_bytes(), check=True, timeout=30)
    if allowed_sources is not None:
        access = install_access_command(render_access_drop_in(allowed_sources), ssh_dir=str(ssh_dir), reload="true")
        subprocess.run(["bash", "-c", access], check=True, timeout=30)
    (ssh_dir / "authorized_keys").write_text(login_key.public + "\n", encoding="utf-8")
    config = ssh_dir / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Include {ssh_dir}/sshd_config.d/*.conf",
                f"ListenAddress {address}",
                f"PidFile {ssh_dir}/sshd.pid",
                f"AuthorizedKeysFile {ssh_dir}/authorized_keys",
                "StrictModes no",
                "UsePAM no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                "LogLevel VERBOSE",
                "",
            ]
        ),
        encoding="utf-8",
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    ns.spawn(netns, label, "/usr/sbin/sshd", "-D", "-e", "-f", str(config))
    ns.wait_listening(netns, "tcp", address, 22)
    return ssh_dir


def pinned_ssh(
    ns: Namespaces, netns: str, address: str, *, pinned: str, login_key: KeyPair, command: str
) -> subprocess.CompletedProcess[str]:
    """`command` over SSH from `netns`, trusting only the host key `pinned` for `address`."""
    known_hosts = ns.workdir / f"known_hosts-{address}"
    known_hosts.write_text(known_hosts_line(address, pinned), encoding="utf-8")
    options = [
        "-F", "/dev/null",
        "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=yes",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "IdentitiesOnly=yes",
        "-o", "ConnectTimeout=3",
        "-i", str(login_key.private),
    ]  # fmt: skip
    return ns.run(netns, "ssh", *options, f"root@{address}", command, timeout=20)
