"""Which Proxmox host runs each guest (pure).

Moving a guest to another host replaces it (bpg: a VM's `node_name` forces a new one without
`migrate`, a container's always does), so placement is a function of what identifies a guest, its
VM id, and of the host list, never of its position in a list:

- a guest's own `proxmoxNode` wins;
- control planes, pinned ones first, then the others in VM id order, each take the least loaded
  host, ties going to the host listed first: spread as evenly as the hosts allow; a control plane
  added with a higher VM id (1 -> 3 -> 5) moves none already placed, and a host added at the end of
  the list moves none while there are at least as many hosts as control planes (a single one shares
  the first host with the router, so the lab depends on one host, not two);
- workers and the client take the top host of their own rendezvous ranking (highest random weight
  hashing): adding or removing one moves no other, and adding a host moves only the guests that
  rank it first.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Seat:
    """What placement needs of a guest."""

    vm_id: int
    pinned: str | None
    control_plane: bool


@functools.lru_cache(maxsize=1 << 16)  # a plan places the same guests many times (rules, components)
def _weight(vm_id: int, host: str) -> bytes:
    return hashlib.sha256(f"{vm_id}@{host}".encode()).digest()


def ranking(vm_id: int, hosts: Sequence[str]) -> list[str]:
    """The hosts in the guest's order of preference: a stable hash of (VM id, host), highest first."""
    return sorted(hosts, key=lambda host: _weight(vm_id, host), reverse=True)


def place(seats: Sequence[Seat], hosts: Sequence[str]) -> dict[int, str]:
    """The host of every seat, by VM id."""
    placed: dict[int, str] = {}
    load = dict.fromkeys(hosts, 0)
    control_planes = sorted((s for s in seats if s.control_plane), key=lambda s: (s.pinned is None, s.vm_id))
    for seat in control_planes:
        host = seat.pinned or min(hosts, key=lambda h: load[h])  # min() keeps the first of equals
        placed[seat.vm_id] = host
        load[host] = load.get(host, 0) + 1
    for seat in seats:
        if not seat.control_plane:
            placed[seat.vm_id] = seat.pinned or max(hosts, key=lambda host: _weight(seat.vm_id, host))
    return placed


def quorum(members: int) -> int:
    """etcd's quorum: a majority of the members."""
    return members // 2 + 1
