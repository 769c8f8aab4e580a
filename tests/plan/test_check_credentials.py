"""`homelab check --talosconfig F --kubeconfig F`, in-process: days to expiry of the certificates of
generated files, warnings under 30 days, exit 1 under 7, and the backup status read from the client."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from check.credentials import status_line
from check.expiry import (
    ExpiryError,
    Level,
    client_certificate_expiry,
    der_not_after,
    kubeconfig_certificates,
    not_after,
    talosconfig_certificates,
)
from cli.main import main
from config.loading import load_stack_file
from tests.support import STACKS, stack_plan
from tests.talos.credentials import Issued, b64, issue, kubeconfig_text, make_ca, talosconfig_text, write

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def cas() -> tuple[Issued, Issued]:
    return make_ca("talos", 3650), make_ca("kubernetes", 3650)


def files(tmp_path: Path, cas: tuple[Issued, Issued], talos_days: float, kube_days: float) -> tuple[Path, Path]:
    os_ca, k8s_ca = cas
    talosconfig = write(
        tmp_path / "talosconfig", talosconfig_text(os_ca, issue(os_ca, "admin", talos_days, "os:admin"), ["10.0.0.1"])
    )
    kubeconfig = write(
        tmp_path / "kubeconfig", kubeconfig_text(k8s_ca, issue(k8s_ca, "admin", kube_days, "system:masters"))
    )
    return talosconfig, kubeconfig


def check(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, list[str]]:
    code = main(
        ["check", "--config-file", str(STACKS["dev"]), "--credentials-only", "--timeout", "0.3", *map(str, args)]
    )
    return code, capsys.readouterr().out.splitlines()


def lines_with(lines: list[str], text: str) -> list[str]:
    """The report's lines that mention `text`, not counting the fixes."""
    return [line for line in lines if text in line and not line.strip().startswith("fix:")]


def test_fine_certificates_pass_with_their_days_left(
    tmp_path: Path, cas: tuple[Issued, Issued], capsys: pytest.CaptureFixture[str]
) -> None:
    talosconfig, kubeconfig = files(tmp_path, cas, 300, 200)
    code, lines = check(capsys, "--talosconfig", talosconfig, "--kubeconfig", kubeconfig)
    assert code == 0
    (talos,) = lines_with(lines, "context homelab: client certificate")
    assert talos.split()[0] == "ok" and ("300 days left" in talos or "299 days left" in talos)
    (kube,) = lines_with(lines, "kubeconfig user admin@homelab: client certificate")
    assert kube.split()[0] == "ok" and ("200 days left" in kube or "199 days left" in kube)
    # The cluster CAs of both files, and the other context of the talosconfig, are reported too.
    assert len(lines_with(lines, "Talos API CA")) == 2
    assert len(lines_with(lines, "cluster homelab: cluster CA")) == 1
    assert lines_with(lines, "context aaa-other: client certificate")


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ((20, 300), (0, "WARN", "context homelab: client certificate")),  # under 30 days: a warning
        ((300, 5), (1, "FAIL", "user admin@homelab: client certificate")),  # under 7: the check fails
        ((-3, 300), (1, "FAIL", "context homelab: client certificate")),  # expired
    ],
)
def test_certificates_close_to_expiry_warn_then_fail(
    tmp_path: Path,
    cas: tuple[Issued, Issued],
    capsys: pytest.CaptureFixture[str],
    days: tuple[float, float],
    expected: tuple[int, str, str],
) -> None:
    code, level, which = expected
    talosconfig, kubeconfig = files(tmp_path, cas, *days)
    got, lines = check(capsys, "--talosconfig", talosconfig, "--kubeconfig", kubeconfig)
    assert got == code
    index = lines.index(next(line for line in lines if which in line))
    assert lines[index].split()[0] == level
    assert lines[index + 1].strip().startswith("fix: ")
    if days[0] < 0:
        assert "expired 3 days ago" in lines[index]


def test_a_cluster_ca_close_to_its_end_warns_with_the_ca_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ca = make_ca("kubernetes", 20)
    kubeconfig = write(tmp_path / "kubeconfig", kubeconfig_text(ca, issue(ca, "admin", 300)))
    code, lines = check(capsys, "--kubeconfig", kubeconfig)
    assert code == 0
    (line,) = lines_with(lines, "cluster CA")
    assert line.split()[0] == "WARN"
    assert "rotate-ca" in lines[lines.index(line) + 1]


def test_a_file_that_is_not_a_kubeconfig_fails_and_a_missing_one_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = write(tmp_path / "kubeconfig", "apiVersion: v1\nkind: Pod\n")
    code, lines = check(capsys, "--kubeconfig", wrong)
    assert code == 1
    assert lines_with(lines, "not a kubeconfig")
    assert main(["check", "--config-file", str(STACKS["dev"]), "--kubeconfig", str(tmp_path / "nope")]) == 2
    assert "--kubeconfig" in capsys.readouterr().err
    assert main(["check", "--config-file", str(STACKS["dev"]), "--credentials-only"]) == 2
    assert "--credentials-only needs --talosconfig or --kubeconfig" in capsys.readouterr().err


def test_without_the_client_the_backup_line_says_so_fast(
    tmp_path: Path, cas: tuple[Issued, Issued], capsys: pytest.CaptureFixture[str]
) -> None:
    talosconfig, _ = files(tmp_path, cas, 300, 300)
    started = time.monotonic()
    code, lines = check(capsys, "--talosconfig", talosconfig)
    assert time.monotonic() - started < 5
    assert code == 0  # a backup not read is a warning, not a broken lab
    (line,) = lines_with(lines, "last etcd backup")
    assert line.split()[0] == "WARN" and "not read" in line


def status(hours_ago: float, copy: str = "ok") -> str:
    epoch = int((NOW - datetime.timedelta(hours=hours_ago)).timestamp())
    return json.dumps({"epoch": epoch, "file": "etcd-x.db", "bytes": 98336, "copy": copy, "snapshot": {}})


@pytest.mark.parametrize(
    ("text", "schedule", "level", "says"),
    [
        (status(5), "daily", Level.OK, "5.0 hours old"),
        (status(72), "daily", Level.WARN, "3.0 days old"),
        (status(3), "hourly", Level.WARN, "3.0 hours old"),
        (status(100), "weekly", Level.OK, "4.2 days old"),
        (status(5, copy="failed"), "daily", Level.WARN, "copy off host: failed"),
        ("garbage", "daily", Level.WARN, "unreadable status"),
    ],
)
def test_the_backup_status_reports_its_age(text: str, schedule: str, level: Level, says: str) -> None:
    line = status_line("last etcd backup", text, schedule, NOW)
    assert line.level is level
    assert says in line.text


def _rsa_certificate(not_after_time: datetime.datetime) -> bytes:
    """RSA: a certificate over 255 bytes, so the reader meets long-form DER lengths."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "homelab")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(not_after_time)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    "end",
    [
        datetime.datetime(2027, 1, 1, 0, 0, 1, tzinfo=UTC),  # UTCTime
        datetime.datetime(2051, 6, 30, 23, 59, 59, tzinfo=UTC),  # GeneralizedTime (from 2050 on)
    ],
)
def test_the_der_reader_agrees_with_cryptography(end: datetime.datetime) -> None:
    der = _rsa_certificate(end)
    assert der_not_after(der) == x509.load_der_x509_certificate(der).not_valid_after_utc == end


def test_unreadable_certificates_are_problems_not_tracebacks() -> None:
    for value in ("", "bm90IGEgY2VydA==", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):
        with pytest.raises(ExpiryError):
            not_after(value)
    with pytest.raises(ExpiryError):
        talosconfig_certificates("contexts: {}\n")
    with pytest.raises(ExpiryError):
        kubeconfig_certificates("- a list\n")


def test_the_stack_output_reads_the_exported_files(cas: tuple[Issued, Issued]) -> None:
    os_ca, k8s_ca = cas
    talos_client, kube_client = issue(os_ca, "admin", 365), issue(k8s_ca, "admin", 100)
    expiry = client_certificate_expiry(
        talosconfig_text(os_ca, talos_client, ["10.0.0.1"]), kubeconfig_text(k8s_ca, kube_client)
    )
    for key, issued in (("talosconfig", talos_client), ("kubeconfig", kube_client)):
        end = x509.load_pem_x509_certificate(issued.certificate).not_valid_after_utc
        assert expiry[key] == end.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not_after(b64(talos_client.certificate)) == not_after(talos_client.certificate.decode())


def test_under_mocks_the_expiry_output_is_null_never_a_made_up_date() -> None:
    plan = stack_plan("dev")
    assert plan.outputs["clientCertificateExpiry"] == {"talosconfig": None, "kubeconfig": None}
    assert "clientCertificateExpiry" not in plan.secret_outputs


def test_the_backup_status_is_read_over_ssh_in_batch_mode_with_bounded_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stand-in `ssh` first on PATH, and port 22 of the client taken as open: the check asks for the
    status file without prompting and with a connect timeout, and reports what the file says."""
    import check.credentials
    from check.probes import Answer

    calls = tmp_path / "calls"
    fake = tmp_path / "bin" / "ssh"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\necho \"$@\" >{calls}\ncat <<'END'\n{status(3)}\nEND\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")
    monkeypatch.setattr(check.credentials, "tcp", lambda address, port, timeout: Answer.OPEN)
    config = load_stack_file(STACKS["dev"])
    line = check.credentials.backup_line(config, 0.3, NOW)
    assert calls.read_text(encoding="utf-8").split() == [
        "-o",
        "BatchMode=yes",
        "-o",
        "ConnectTimeout=1",
        "root@192.168.1.204",
        "cat",
        "/var/lib/homelab/etcd-backup.status",
    ]
    assert line.level is Level.OK
    assert "etcd-x.db, 98336 bytes, 3.0 hours old (copy off host: ok)" in line.text
