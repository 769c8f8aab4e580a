"""The fake cluster behind tests/talos/fake_cluster.sh (a fake talosctl and kubectl), as a dict.

`write_state` lays a state out in the directory the fake reads and writes;
`read_state` reads it back. Shape: `nodes` (address -> role, version, schematic,
kubelet, failUpgrade, stuck, silentCalls, in order: control planes first as in a stack),
`kubernetes` (controlPlane and proxy image tags; proxy None: no kube-proxy),
`unhealthy` (a node name or None), `failKubernetes`, `apiSilentCalls` (how many more kubectl calls
the API refuses), and `calls` (read only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FAKE = Path(__file__).with_name("fake_cluster.sh")
TOOLS = ("talosctl", "kubectl")


def node_state(
    role: str,
    version: str,
    schematic: str,
    *,
    kubelet: str,
    fail_upgrade: bool = False,
    stuck: bool = False,
    silent_calls: int = 0,
) -> dict[str, Any]:
    return {
        "role": role,
        "version": version,
        "schematic": schematic,
        "kubelet": kubelet,
        "failUpgrade": fail_upgrade,
        "stuck": stuck,
        "silentCalls": silent_calls,
    }


def install_tools(bin_dir: Path) -> None:
    """talosctl and kubectl in `bin_dir`, both the fake."""
    bin_dir.mkdir(exist_ok=True)
    for tool in TOOLS:
        link = bin_dir / tool
        if not link.exists():
            link.symlink_to(FAKE)


def _flag(path: Path, value: object) -> None:
    if value:
        path.write_text(f"{value}\n", encoding="utf-8")
    else:
        path.unlink(missing_ok=True)


def write_state(folder: Path, state: dict[str, Any]) -> None:
    nodes: dict[str, dict[str, Any]] = state["nodes"]
    folder.mkdir(exist_ok=True)
    (folder / "calls").write_text("", encoding="utf-8")
    (folder / "nodes").write_text("".join(f"{ip} {node['role']}\n" for ip, node in nodes.items()), encoding="utf-8")
    for ip, node in nodes.items():
        directory = folder / "node" / ip
        directory.mkdir(parents=True, exist_ok=True)
        for key in ("role", "version", "schematic", "kubelet"):
            (directory / key).write_text(f"{node[key]}\n", encoding="utf-8")
        _flag(directory / "fail-upgrade", node["failUpgrade"])
        _flag(directory / "stuck", node["stuck"])
        (directory / "silent-calls").write_text(f"{node['silentCalls']}\n", encoding="utf-8")
    kubernetes = folder / "kubernetes"
    kubernetes.mkdir(exist_ok=True)
    (kubernetes / "control-plane").write_text(f"{state['kubernetes']['controlPlane']}\n", encoding="utf-8")
    _flag(kubernetes / "proxy", state["kubernetes"]["proxy"])
    _flag(folder / "unhealthy", state.get("unhealthy"))
    _flag(folder / "fail-kubernetes", state.get("failKubernetes"))
    (folder / "api-silent-calls").write_text(f"{state.get('apiSilentCalls', 0)}\n", encoding="utf-8")


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8").strip() if path.exists() else None


def read_state(folder: Path) -> dict[str, Any]:
    nodes: dict[str, dict[str, Any]] = {}
    for line in (folder / "nodes").read_text(encoding="utf-8").splitlines():
        ip, role = line.split()
        directory = folder / "node" / ip
        nodes[ip] = {key: _read(directory / key) for key in ("version", "schematic", "kubelet")}
        nodes[ip] |= {
            "role": role,
            "failUpgrade": (directory / "fail-upgrade").exists(),
            "stuck": (directory / "stuck").exists(),
            "silentCalls": int(_read(directory / "silent-calls") or 0),
        }
    return {
        "nodes": nodes,
        "kubernetes": {
            "controlPlane": _read(folder / "kubernetes" / "control-plane"),
            "proxy": _read(folder / "kubernetes" / "proxy"),
        },
        "unhealthy": _read(folder / "unhealthy"),
        "failKubernetes": (folder / "fail-kubernetes").exists(),
        "apiSilentCalls": int(_read(folder / "api-silent-calls") or 0),
        "calls": (folder / "calls").read_text(encoding="utf-8").splitlines(),
    }
