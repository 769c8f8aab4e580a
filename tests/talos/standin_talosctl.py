"""A stand-in talosctl for the leave script: `talosctl --nodes <address> etcd ...` on a real etcd.

Run as `python standin_talosctl.py ARGS` (tests/talos/test_leave_script.py puts a `talosctl`
wrapper first on PATH). It reads $STANDIN_DIR:
  members.json            address -> {name, client}: the etcd member standing for that node
  gone/<address>          the node does not answer (no route to host)
  hang/<address>          the node accepts and never answers
  late/<address>          how many more calls it refuses before it answers
  calls                   every call is appended: "<$STANDIN_CALLER> talosctl <args>"
Members are listed as talosctl 1.13 prints them (cmd/talosctl/cmd/talos/etcd.go): NODE, ID in hex,
HOSTNAME, PEER URLS, CLIENT URLS, LEARNER, with the lab addresses in the URLs. Anything else exits 99.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

STATE = Path(os.environ["STANDIN_DIR"])


def fail(message: str, code: int = 1) -> None:
    print(message, file=sys.stderr)
    sys.exit(code)


def etcdctl(client: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["etcdctl", f"--endpoints={client}", "--dial-timeout=2s", "--command-timeout=5s", *args],
        capture_output=True,
        text=True,
        check=False,
    )


def reachable(address: str) -> None:
    if (STATE / "hang" / address).exists():
        time.sleep(3600)
    if (STATE / "gone" / address).exists():
        fail(f"rpc error: code = Unavailable desc = dial tcp {address}:50000: connect: no route to host")
    late = STATE / "late" / address
    if late.exists() and int(late.read_text() or 0) > 0:
        late.write_text(str(int(late.read_text()) - 1))
        fail(f"rpc error: code = Unavailable desc = dial tcp {address}:50000: connect: connection refused")


def member_list(client: str) -> list[dict[str, object]]:
    done = etcdctl(client, "member", "list", "-w", "json")
    if done.returncode != 0:
        fail(f"error getting members: {done.stderr.strip()}")
    return list(json.loads(done.stdout)["members"])


def main(args: list[str]) -> None:
    with (STATE / "calls").open("a", encoding="utf-8") as calls:
        calls.write(f"{os.environ.get('STANDIN_CALLER', '-')} talosctl {' '.join(args)}\n")
    if args[:1] != ["--nodes"] or len(args) < 4 or args[2] != "etcd":
        fail(f"stand-in talosctl: unexpected arguments: {args}", 99)
    node, command = args[1], args[3:]
    nodes: dict[str, dict[str, str]] = json.loads((STATE / "members.json").read_text(encoding="utf-8"))
    reachable(node)
    if node not in nodes:
        fail(f"rpc error: code = Unavailable desc = {node} is not a control plane: etcd is not running")
    own = nodes[node]
    by_name = {value["name"]: address for address, value in nodes.items()}
    if command == ["members"]:
        print("NODE\tID\tHOSTNAME\tPEER URLS\tCLIENT URLS\tLEARNER")
        for member in member_list(own["client"]):
            address = by_name[str(member["name"])]
            print(
                f"{node}\t{int(str(member['ID'])):x}\t{member['name']}\thttps://{address}:2380"
                f"\thttps://{address}:2379\t{str(member.get('isLearner', False)).lower()}"
            )
    elif command == ["status"]:
        done = etcdctl(own["client"], "endpoint", "status")
        if done.returncode != 0:
            fail(f"rpc error: code = Unknown desc = etcd is not healthy: {done.stderr.strip()}")
        print(f"{node}\t{own['name']}\tok")
    elif command == ["leave"]:
        mine = [m for m in member_list(own["client"]) if m["name"] == own["name"]]
        if not mine:
            fail("rpc error: code = Unknown desc = failed to leave: member not found")
        done = etcdctl(own["client"], "member", "remove", f"{int(str(mine[0]['ID'])):x}")
        if done.returncode != 0:
            fail(f"rpc error: code = Unknown desc = failed to leave: {done.stderr.strip()}")
    elif command[:1] == ["remove-member"] and len(command) == 2:
        done = etcdctl(own["client"], "member", "remove", command[1])
        if done.returncode != 0:
            fail(f"rpc error: code = Unknown desc = {done.stderr.strip()}")
    else:
        fail(f"stand-in talosctl: unexpected arguments: {args}", 99)


if __name__ == "__main__":
    main(sys.argv[1:])
