"""The client's renewal script, run with bash and its unit's environment, with certificates the test makes
(one about to expire, one expired, one fine) and stand-in talosctl/kubectl that check them against the
test's CAs (tests/talos/standin_credentials.py); the old files stay usable whatever step fails."""

from __future__ import annotations

import base64
import datetime
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from components.talos.lifecycle_units import RENEW_BEFORE_DAYS, LifecycleTarget, renew_service, unit_environment
from components.talos.renew_script import renew_script
from config.models import BackupConfig
from tests.network.tools import require_tools
from tests.support import REPO
from tests.talos.credentials import Issued, issue, kubeconfig_text, make_ca, talosconfig_text, write

CPS = ["192.168.1.201", "192.168.1.211"]
NODES = [*CPS, "192.168.1.202"]
FINE, DUE, EXPIRED = 300, 10, -1  # days left


@dataclass
class Client:
    root: Path
    environment: dict[str, str]

    @property
    def talosconfig(self) -> Path:
        return Path(self.environment["TALOSCONFIG"])

    @property
    def kubeconfig(self) -> Path:
        return Path(self.environment["KUBECONFIG"])

    def run(self, fail: str = "") -> subprocess.CompletedProcess[str]:
        (self.root / "calls").write_text("", encoding="utf-8")
        env = {**self.environment, "FAIL": fail}
        return subprocess.run(
            ["bash", "-c", renew_script()], env=env, capture_output=True, text=True, timeout=120, check=False
        )

    def calls(self) -> list[str]:
        return (self.root / "calls").read_text(encoding="utf-8").splitlines()

    def tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(list(args), env=self.environment, capture_output=True, text=True, timeout=60, check=False)

    def usable(self) -> bool:
        """Both files work, as the stand-ins judge them (current and signed by the cluster's CA)."""
        talos = self.tool("talosctl", "--talosconfig", str(self.talosconfig), "--nodes", CPS[0], "version")
        kube = self.tool("kubectl", "--kubeconfig", str(self.kubeconfig), "get", "--raw", "/healthz")
        return talos.returncode == 0 and kube.stdout.strip() == "ok"


@pytest.fixture(scope="module")
def cas() -> tuple[Issued, Issued]:
    return make_ca("talos", 3650), make_ca("kubernetes", 3650)


def client(tmp_path: Path, cas: tuple[Issued, Issued], talos_days: float, kube_days: float) -> Client:
    require_tools("bash", "openssl", "awk", "base64")
    os_ca, k8s_ca = cas
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("talosctl", "kubectl"):
        wrapper = bin_dir / tool
        wrapper.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" -m tests.talos.standin_credentials {tool} "$@"\n', encoding="utf-8"
        )
        wrapper.chmod(0o755)
    files = {}
    for name, text in (
        ("OS_CA_CERT", os_ca.certificate),
        ("OS_CA_KEY", os_ca.key),
        ("K8S_CA_CERT", k8s_ca.certificate),
        ("K8S_CA_KEY", k8s_ca.key),
    ):
        files[name] = str(tmp_path / name.lower())
        Path(files[name]).write_bytes(text)
    environment = unit_environment(
        renew_service(LifecycleTarget(control_planes=CPS, nodes=NODES, backup=BackupConfig()))
    )
    talosconfig = write(
        tmp_path / "talos-config", talosconfig_text(os_ca, issue(os_ca, "admin", talos_days, "os:admin"), CPS)
    )
    kubeconfig = write(
        tmp_path / "kube-config", kubeconfig_text(k8s_ca, issue(k8s_ca, "admin", kube_days, "system:masters"))
    )
    environment |= {"TALOSCONFIG": str(talosconfig), "KUBECONFIG": str(kubeconfig)}
    environment |= files | {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "PYTHONPATH": str(REPO),
        "CALLS": str(tmp_path / "calls"),
    }
    return Client(tmp_path, environment)


def days_left(path: Path, kind: str) -> float:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if kind == "talos":
        data = document["contexts"][document["context"]]["crt"]
    else:
        data = document["users"][0]["user"]["client-certificate-data"]
    end = x509.load_pem_x509_certificate(base64.b64decode(data)).not_valid_after_utc
    return (end - datetime.datetime.now(datetime.UTC)).total_seconds() / 86400


def test_the_unit_renews_well_before_the_check_warns() -> None:
    environment = unit_environment(renew_service(LifecycleTarget(CPS, NODES, BackupConfig())))
    assert environment["CONTROL_PLANES"] == " ".join(CPS) and environment["NODES"] == " ".join(NODES)
    assert int(environment["RENEW_BEFORE_DAYS"]) == RENEW_BEFORE_DAYS > 30
    assert environment["CRT_TTL_HOURS"] == "8760"


def test_fine_certificates_are_left_alone(tmp_path: Path, cas: tuple[Issued, Issued]) -> None:
    setup = client(tmp_path, cas, FINE, FINE)
    before = (setup.talosconfig.read_bytes(), setup.kubeconfig.read_bytes())
    done = setup.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert setup.calls() == []
    assert (setup.talosconfig.read_bytes(), setup.kubeconfig.read_bytes()) == before
    assert done.stdout.count("nothing to do") == 2


def test_certificates_about_to_expire_are_renewed_and_the_old_ones_kept(
    tmp_path: Path, cas: tuple[Issued, Issued]
) -> None:
    setup = client(tmp_path, cas, DUE, DUE)
    old_talos, old_kube = setup.talosconfig.read_bytes(), setup.kubeconfig.read_bytes()
    done = setup.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert days_left(setup.talosconfig, "talos") > 364 and days_left(setup.kubeconfig, "kube") > 364
    assert Path(f"{setup.talosconfig}.previous").read_bytes() == old_talos
    assert Path(f"{setup.kubeconfig}.previous").read_bytes() == old_kube
    assert setup.usable()
    # The new talosconfig keeps the control planes as endpoints and every node, never a VIP.
    context = yaml.safe_load(setup.talosconfig.read_text(encoding="utf-8"))
    context = context["contexts"][context["context"]]
    assert context["endpoints"] == CPS and context["nodes"] == NODES
    assert setup.talosconfig.stat().st_mode & 0o077 == 0 and setup.kubeconfig.stat().st_mode & 0o077 == 0
    assert not list(tmp_path.glob("*.new"))
    assert "talosconfig: renewed from 192.168.1.201" in done.stdout
    assert "kubeconfig: renewed from 192.168.1.201" in done.stdout
    assert "BEGIN" not in done.stdout + done.stderr  # no key or certificate in the journal


def test_an_expired_talosconfig_is_not_renewable_here_and_says_what_to_do(
    tmp_path: Path, cas: tuple[Issued, Issued]
) -> None:
    setup = client(tmp_path, cas, EXPIRED, DUE)
    before = (setup.talosconfig.read_bytes(), setup.kubeconfig.read_bytes())
    done = setup.run()
    assert done.returncode == 1
    assert "cannot renew itself; run pulumi up" in done.stdout
    assert (setup.talosconfig.read_bytes(), setup.kubeconfig.read_bytes()) == before
    assert not list(tmp_path.glob("*.new"))


def test_an_expired_kubeconfig_is_renewed_with_a_working_talosconfig(
    tmp_path: Path, cas: tuple[Issued, Issued]
) -> None:
    setup = client(tmp_path, cas, FINE, EXPIRED)
    done = setup.run()
    assert done.returncode == 0, done.stdout + done.stderr
    assert days_left(setup.kubeconfig, "kube") > 364
    assert setup.usable()


@pytest.mark.parametrize(
    ("fail", "failed_file"),
    [
        ("config-new", "talos"),  # a half-written talosconfig, then an error
        ("endpoint", "talos"),
        ("verify", "talos"),  # the new talosconfig does not work
        ("kubeconfig", "kube"),  # a half-written kubeconfig
        ("healthz", "kube"),  # the new kubeconfig is refused
    ],
)
def test_a_renewal_failing_half_way_leaves_the_old_files_usable(
    tmp_path: Path, cas: tuple[Issued, Issued], fail: str, failed_file: str
) -> None:
    setup = client(tmp_path, cas, DUE, DUE)
    path = setup.talosconfig if failed_file == "talos" else setup.kubeconfig
    before = path.read_bytes()
    done = setup.run(fail)
    assert done.returncode == 1
    assert path.read_bytes() == before
    assert f"FAILED: {'talosconfig' if failed_file == 'talos' else 'kubeconfig'} not renewed" in done.stdout
    assert not list(tmp_path.glob("*.new"))
    assert setup.usable()
    # Every control plane was tried before giving up.
    attempts = [c for c in setup.calls() if ("config new" if failed_file == "talos" else " kubeconfig ") in c]
    assert [c.split("--nodes ")[1].split()[0] for c in attempts] == CPS


def test_the_script_passes_shellcheck(tmp_path: Path) -> None:
    shellcheck = require_tools("shellcheck")["shellcheck"]
    path = tmp_path / "homelab-renew-credentials"
    path.write_text(renew_script(), encoding="utf-8")
    done = subprocess.run([shellcheck, str(path)], capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stdout
