"""What the program installs in a container's sshd (pure rendering).

The host key is made by the program, so every command after the first one knows the
key to expect. The first command that reaches a new container cannot check who answers
(trust on first use): it carries the host key on stdin and nothing else of the lab.
"""

from __future__ import annotations

import ipaddress
import shlex
from collections.abc import Sequence

SSH_DIR = "/etc/ssh"
HOST_KEY_FILE = "ssh_host_ed25519_key"
HOST_KEY_DROP_IN = "sshd_config.d/10-homelab-host-key.conf"
ACCESS_DROP_IN = "sshd_config.d/20-homelab-access.conf"
# Debian's ssh.service reloads by `sshd -t` and SIGHUP: the session running this survives it.
RELOAD_SSHD = "systemctl reload ssh"


def install_host_key_command(ssh_dir: str = SSH_DIR, reload: str = RELOAD_SSHD) -> str:
    """Installs the OpenSSH private key on stdin as sshd's only host key, then reloads sshd.

    Only `HostKey` lines name the keys sshd offers (sshd_config(5)); Debian's own are
    commented out, so with this drop-in sshd offers the program's key and no other.
    """
    key = shlex.quote(f"{ssh_dir}/{HOST_KEY_FILE}")
    drop_in = shlex.quote(f"{ssh_dir}/{HOST_KEY_DROP_IN}")
    lines = [
        "set -eu",
        "umask 077",
        f"mkdir -p {shlex.quote(ssh_dir + '/sshd_config.d')}",
        f"cat >{key}.homelab",
        f"ssh-keygen -y -f {key}.homelab >{key}.pub.homelab",
        f"chmod 0644 {key}.pub.homelab",
        f"mv -f {key}.pub.homelab {key}.pub",
        f"mv -f {key}.homelab {key}",
        f"printf '%s\\n' '# homelab: the host key the program pins' 'HostKey {ssh_dir}/{HOST_KEY_FILE}' >{drop_in}",
        f"chmod 0644 {drop_in}",
        reload,
    ]
    return "\n".join(lines) + "\n"


def render_access_drop_in(allowed_sources: Sequence[str]) -> str:
    """sshd lets root in only from these networks or addresses (sshd_config(5) AllowUsers, USER@HOST)."""
    networks = [ipaddress.ip_network(source, strict=False) for source in allowed_sources]
    patterns = " ".join(f"root@{network.with_prefixlen}" for network in networks)
    return f"# homelab: who may log in (admins, and the router for the lab side)\nAllowUsers {patterns}\n"


def install_access_command(drop_in: str, ssh_dir: str = SSH_DIR, reload: str = RELOAD_SSHD) -> str:
    path = shlex.quote(f"{ssh_dir}/{ACCESS_DROP_IN}")
    return "\n".join(
        [
            "set -eu",
            f"mkdir -p {shlex.quote(ssh_dir + '/sshd_config.d')}",
            f"cat >{path}.homelab <<'HOMELAB_EOF'",
            drop_in.rstrip("\n"),
            "HOMELAB_EOF",
            f"chmod 0644 {path}.homelab",
            f"mv -f {path}.homelab {path}",
            reload,
            "",
        ]
    )


def known_hosts_line(host: str, public_key: str) -> str:
    """A known_hosts entry for `ssh -o StrictHostKeyChecking=yes` (the key as an authorized_keys line)."""
    key_type, key_data = public_key.split()[:2]
    return f"{host} {key_type} {key_data}\n"
