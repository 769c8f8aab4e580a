"""A stand-in kubectl for the leave script: the Nodes of a cluster kept in $STANDIN_DIR/kube.

  kube/nodes.json     Node name -> InternalIP
  kube/api            "gone" (refused), "hang" (accepts, never answers) or "late N" (refuses N more calls)
  kube/drain          "hang" (the eviction never finishes) or "fail"
  calls               every call is appended: "<$STANDIN_CALLER> kubectl <args>"
Every call must carry --request-timeout first; anything but the leave script's calls exits 99.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

STATE = Path(os.environ["STANDIN_DIR"])
KUBE = STATE / "kube"
NODES_JSONPATH = (
    'jsonpath={range .items[*]}{.metadata.name}{" "}{.status.addresses[?(@.type=="InternalIP")].address}{"\\n"}{end}'
)


def fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def fault(name: str) -> str:
    path = KUBE / name
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def api() -> None:
    state = fault("api")
    if state == "hang":
        time.sleep(3600)
    if state == "gone":
        fail("The connection to the server 192.168.1.201:6443 was refused - did you specify the right host or port?")
    if state.startswith("late "):
        left = int(state.split()[1])
        if left > 0:
            (KUBE / "api").write_text(f"late {left - 1}\n", encoding="utf-8")
            fail("Unable to connect to the server: dial tcp 192.168.1.201:6443: i/o timeout")


def main(args: list[str]) -> None:
    with (STATE / "calls").open("a", encoding="utf-8") as calls:
        calls.write(f"{os.environ.get('STANDIN_CALLER', '-')} kubectl {' '.join(args)}\n")
    if not args or not args[0].startswith("--request-timeout="):
        fail(f"stand-in kubectl: unbounded call: {args}", 99)
    args = args[1:]
    api()
    nodes: dict[str, str] = json.loads((KUBE / "nodes.json").read_text(encoding="utf-8"))
    match args:
        case ["get", "nodes", "-o", path] if path == NODES_JSONPATH:
            sys.stdout.write("".join(f"{name} {address}\n" for name, address in nodes.items()))
        case ["cordon", name] if name in nodes:
            print(f"node/{name} cordoned")
        case ["drain", name, "--ignore-daemonsets", "--delete-emptydir-data", timeout] if (
            name in nodes and timeout.startswith("--timeout=")
        ):
            if fault("drain") == "hang":
                time.sleep(3600)
            if fault("drain") == "fail":
                fail(f"error when evicting pods/site-0 -n default (will retry after 5s): Cannot evict pod ({name})")
            print(f"node/{name} drained")
        case ["delete", "node", name] if name in nodes:
            del nodes[name]
            (KUBE / "nodes.json").write_text(json.dumps(nodes), encoding="utf-8")
            print(f'node "{name}" deleted')
        case _:
            fail(f"stand-in kubectl: unexpected arguments: {args}", 99)


if __name__ == "__main__":
    main(sys.argv[1:])
