"""Stand-in `talosctl` and `kubectl` for the renewal script: they accept a talosconfig or kubeconfig only when
its client certificate is current and signed by the test's CA, as the real APIs do, and issue new ones
from that CA. `FAIL` makes one step fail half-way (a half-written file, a refused check).

Run as `python -m tests.talos.standin_credentials talosctl|kubectl ARGS...` from the wrapper scripts on PATH.
"""

from __future__ import annotations

import base64
import datetime
import os
import sys
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509

from tests.talos.credentials import Issued, b64, issue, kubeconfig_text

UTC = datetime.UTC


def _ca(prefix: str) -> Issued:
    return Issued(Path(os.environ[f"{prefix}_CA_CERT"]).read_bytes(), Path(os.environ[f"{prefix}_CA_KEY"]).read_bytes())


def _accepted(certificate_b64: str, ca: Issued) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(base64.b64decode(certificate_b64))
        certificate.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.certificate))
    except (ValueError, TypeError):
        return False
    now = datetime.datetime.now(UTC)
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _talosconfig(path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return document, document["contexts"][document["context"]]


def _half(path: str, text: str) -> None:
    Path(path).write_text(text[: len(text) // 2], encoding="utf-8")


def _refuse(message: str) -> int:
    print(message, file=sys.stderr)
    return 1


def _without_global_flags(args: list[str]) -> list[str]:
    rest: list[str] = []
    words = iter(args)
    for word in words:
        if word in ("--talosconfig", "--nodes"):
            next(words)
        else:
            rest.append(word)
    return rest


def talosctl(args: list[str]) -> int:
    talosconfig = args[args.index("--talosconfig") + 1]
    rest = _without_global_flags(args)
    fail = os.environ.get("FAIL", "")
    document, context = _talosconfig(talosconfig)
    if rest[:2] in (["config", "endpoint"], ["config", "node"]):
        if fail == "endpoint":
            return _refuse("failed to write the config")
        context["endpoints" if rest[1] == "endpoint" else "nodes"] = rest[2:]
        Path(talosconfig).write_text(yaml.safe_dump(document), encoding="utf-8")
        return 0
    if not _accepted(context["crt"], _ca("OS")):
        return _refuse("rpc error: code = Unavailable desc = tls: expired certificate or unknown authority")
    return _serve(talosconfig, rest, fail)


def _serve(talosconfig: str, rest: list[str], fail: str) -> int:
    """What the Talos API answers an accepted client."""
    if rest[:1] == ["version"]:
        if fail == "verify" and talosconfig.endswith(".new"):
            return _refuse("rpc error: code = PermissionDenied")
        print("Server: Tag: v1.13.9")
        return 0
    if rest[:2] == ["config", "new"]:
        return _hand_out(rest[-1], _new_talosconfig(int(rest[rest.index("--crt-ttl") + 1].removesuffix("h"))), fail)
    if rest[:1] == ["kubeconfig"]:
        k8s_ca = _ca("K8S")
        return _hand_out(rest[-1], kubeconfig_text(k8s_ca, issue(k8s_ca, "admin", 365, "system:masters")), fail)
    return _refuse(f"stand-in talosctl: unexpected {rest}")


def _new_talosconfig(hours: int) -> str:
    os_ca = _ca("OS")
    new = issue(os_ca, "admin", hours / 24, "os:admin")
    name = "admin@homelab"
    entry = {"ca": b64(os_ca.certificate), "crt": b64(new.certificate), "key": b64(new.key)}
    return yaml.safe_dump({"context": name, "contexts": {name: entry}})


def _hand_out(path: str, text: str, fail: str) -> int:
    """Write a new file, or, when this step is the one to fail, half of it and an error."""
    if fail in ("config-new", "kubeconfig") and (fail == "kubeconfig") == ("clusters:" in text):
        _half(path, text)
        return _refuse("connection reset by peer")
    Path(path).write_text(text, encoding="utf-8")
    return 0


def kubectl(args: list[str]) -> int:
    kubeconfig = args[args.index("--kubeconfig") + 1]
    if args[-3:] != ["get", "--raw", "/healthz"]:
        return _refuse(f"stand-in kubectl: unexpected {args}")
    try:
        user = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))["users"][0]["user"]
    except (yaml.YAMLError, KeyError, TypeError, IndexError):
        return _refuse("error loading config file")
    if os.environ.get("FAIL") == "healthz" and kubeconfig.endswith(".new"):
        return _refuse("error: You must be logged in to the server (Unauthorized)")
    if not _accepted(user["client-certificate-data"], _ca("K8S")):
        return _refuse("error: You must be logged in to the server (Unauthorized)")
    print("ok")
    return 0


def main() -> int:
    tool, *args = sys.argv[1:]
    with Path(os.environ["CALLS"]).open("a", encoding="utf-8") as calls:
        calls.write(" ".join([tool, *args]) + "\n")
    return talosctl(args) if tool == "talosctl" else kubectl(args)


if __name__ == "__main__":
    sys.exit(main())
