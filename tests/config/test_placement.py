"""Placement of guests on Proxmox hosts: control planes keep etcd quorum when any one host goes, and no
guest moves (a replacement of its VM or container) unless it must.

Labs are built from the example stack with 1-5 control planes, 0-6 workers and 1-5 hosts, through the
config rules (`parse_lab_config`), so what is tested is what `homelab plan` would place.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from typing import Any

import pytest

from config.guests import Role, lab_guests, router_host
from config.loading import ConfigError, parse_lab_config, read_stack_file
from config.models import LabConfig
from config.placement import Seat, place, quorum, ranking
from tests.support import REPO

EXAMPLE = REPO / "Pulumi.dev.yaml"
HOSTS = ["pve-a", "pve-b", "pve-c", "pve-d", "pve-e"]
CONTROL_PLANE_COUNTS = (1, 3, 5)
VIP = "192.168.1.250"


def _example() -> dict[str, Any]:
    values, _ = read_stack_file(EXAMPLE)
    return {k.removeprefix("homelab:"): json.loads(v) for k, v in values.items() if k.startswith("homelab:")}


BASE = _example()


def _raw(control_planes: int, workers: list[int], hosts: int) -> dict[str, Any]:
    """The example stack with control planes at VM ids 201.., workers at the given ids (>= 210), a host count."""
    raw = copy.deepcopy(BASE)
    raw["proxmox"]["nodes"] = HOSTS[:hosts]
    raw["network"]["bridgePorts"] = {host: ["enp1s0"] for host in HOSTS[:hosts]} if hosts > 1 else {}
    cluster = raw["cluster"]
    cluster["vip"] = VIP if control_planes > 1 else None
    cluster["controlPlanes"] = [
        {"name": f"cp-{i}", "address": f"192.168.1.{10 + i}", "vmId": 200 + i} for i in range(1, control_planes + 1)
    ]
    cluster["workers"] = [
        {"name": f"w-{vm_id}", "address": f"192.168.1.{vm_id - 100}", "vmId": vm_id} for vm_id in workers
    ]
    raw["client"] = {"name": "talos-client", "address": "192.168.1.99", "vmId": 299}
    return raw


def _placement(config: LabConfig) -> dict[str, str]:
    return {guest.name: guest.proxmox_node for guest in lab_guests(config)}


def _control_plane_hosts(config: LabConfig) -> list[str]:
    return [g.proxmox_node for g in lab_guests(config) if g.role is Role.CONTROL_PLANE]


def _spreadable(control_planes: int, hosts: int) -> bool:
    """Whether the hosts can take the control planes with fewer than a quorum on any one."""
    return hosts == 1 or control_planes == 1 or math.ceil(control_planes / hosts) < quorum(control_planes)


@pytest.mark.parametrize("hosts", range(1, 6))
@pytest.mark.parametrize("control_planes", CONTROL_PLANE_COUNTS)
def test_a_lab_is_accepted_exactly_when_no_host_holds_a_quorum(control_planes: int, hosts: int) -> None:
    raw = _raw(control_planes, [210, 211, 212], hosts)
    if not _spreadable(control_planes, hosts):
        with pytest.raises(ConfigError) as caught:
            parse_lab_config(raw)
        (problem,) = caught.value.problems
        assert problem.path == "cluster.controlPlanes"
        assert f"short of etcd's quorum of {quorum(control_planes)}" in problem.message
        return
    config = parse_lab_config(raw)
    placed = _control_plane_hosts(config)
    if hosts > 1 and control_planes > 1:
        for host in HOSTS[:hosts]:
            assert control_planes - placed.count(host) >= quorum(control_planes), (host, placed)
    # As even as the hosts allow.
    assert max(placed.count(h) for h in set(placed)) == math.ceil(control_planes / min(hosts, control_planes))


def test_the_refusal_names_the_host_whose_loss_kills_the_cluster() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_lab_config(_raw(3, [], 2))
    (problem,) = caught.value.problems
    config_hosts = {h: [f"cp-{i}" for i in range(1, 4) if _place_cp(i, 3, 2) == h] for h in HOSTS[:2]}
    (crowded,) = [h for h, names in config_hosts.items() if len(names) == 2]
    assert str(problem) == (
        f"cluster.controlPlanes: {crowded} would run 2 of the 3 control planes ({', '.join(config_hosts[crowded])}): "
        "its loss leaves 1, short of etcd's quorum of 2; spread them over more hosts (at most 1 on each; mind "
        "`proxmoxNode`)"
    )


@pytest.mark.parametrize("hosts", range(1, 6))
@pytest.mark.parametrize("control_planes", range(1, 6))
def test_control_planes_are_spread_as_evenly_as_the_hosts_allow(control_planes: int, hosts: int) -> None:
    """Any count (the rules accept only 1, 3 and 5): the most loaded host holds ceil(count / hosts)."""
    seats = [Seat(vm_id=200 + i, pinned=None, control_plane=True) for i in range(1, control_planes + 1)]
    placed = list(place(seats, HOSTS[:hosts]).values())
    assert max(placed.count(h) for h in placed) == math.ceil(control_planes / hosts)
    assert len(set(placed)) == min(control_planes, hosts)


def _place_cp(index: int, count: int, hosts: int) -> str:
    seats = [Seat(vm_id=200 + i, pinned=None, control_plane=True) for i in range(1, count + 1)]
    return place(seats, HOSTS[:hosts])[200 + index]


LABS = [(cps, hosts) for cps in CONTROL_PLANE_COUNTS for hosts in range(1, 6) if _spreadable(cps, hosts)]


@pytest.mark.parametrize(("control_planes", "hosts"), LABS)
def test_adding_workers_one_by_one_moves_no_guest(control_planes: int, hosts: int) -> None:
    workers: list[int] = []
    before = _placement(parse_lab_config(_raw(control_planes, workers, hosts)))
    for vm_id in range(210, 220):
        workers.append(vm_id)
        after = _placement(parse_lab_config(_raw(control_planes, workers, hosts)))
        assert {name: after[name] for name in before} == before, f"adding w-{vm_id} moved a guest"
        before = after


@pytest.mark.parametrize(("control_planes", "hosts"), LABS)
def test_removing_any_worker_moves_no_other_guest(control_planes: int, hosts: int) -> None:
    workers = list(range(210, 218))
    before = _placement(parse_lab_config(_raw(control_planes, workers, hosts)))
    for removed in workers:
        after = _placement(parse_lab_config(_raw(control_planes, [w for w in workers if w != removed], hosts)))
        assert after == {name: host for name, host in before.items() if name != f"w-{removed}"}, removed


@pytest.mark.parametrize("hosts", range(3, 6))
def test_going_from_1_to_3_to_5_control_planes_moves_none_already_placed(hosts: int) -> None:
    placements = [_placement(parse_lab_config(_raw(count, [210, 211], hosts))) for count in CONTROL_PLANE_COUNTS]
    for smaller, larger in itertools.pairwise(placements):
        assert {name: larger[name] for name in smaller} == smaller


def test_the_order_of_the_lists_moves_nothing() -> None:
    raw = _raw(3, list(range(210, 216)), 4)
    reordered = copy.deepcopy(raw)
    reordered["cluster"]["controlPlanes"].reverse()
    reordered["cluster"]["workers"].reverse()
    assert _placement(parse_lab_config(reordered)) == _placement(parse_lab_config(raw))


def test_a_renamed_guest_stays_where_it_is() -> None:
    raw = _raw(3, list(range(210, 216)), 4)
    renamed = copy.deepcopy(raw)
    renamed["cluster"]["workers"][2]["name"] = "big-worker"
    before, after = (_placement(parse_lab_config(r)) for r in (raw, renamed))
    assert after.pop("big-worker") == before.pop("w-212")
    assert after == before


def test_an_explicit_host_wins_and_control_planes_spread_around_it() -> None:
    raw = _raw(3, [210, 211], 3)
    raw["cluster"]["controlPlanes"][2]["proxmoxNode"] = "pve-c"
    raw["cluster"]["workers"][0]["proxmoxNode"] = "pve-a"
    config = parse_lab_config(raw)
    placed = _placement(config)
    assert (placed["cp-3"], placed["w-210"]) == ("pve-c", "pve-a")
    assert sorted(_control_plane_hosts(config)) == ["pve-a", "pve-b", "pve-c"]


GROWING = [(cps, hosts) for cps, hosts in LABS if hosts < 5 and _spreadable(cps, hosts + 1)]


@pytest.mark.parametrize(("control_planes", "hosts"), GROWING)
def test_adding_a_host_moves_only_guests_to_the_new_host(control_planes: int, hosts: int) -> None:
    """Workers and the client move only onto the new host (those that rank it first); the router stays, and no
    control plane moves while there are at least as many hosts as control planes."""
    workers = list(range(210, 230))
    before, after = (parse_lab_config(_raw(control_planes, workers, count)) for count in (hosts, hosts + 1))
    new_host = HOSTS[hosts]
    old, new = _placement(before), _placement(after)
    moved = {name for name in old if old[name] != new[name]}
    assert all(new[name] == new_host for name in moved if not name.startswith("cp-")), moved
    if hosts >= control_planes:
        assert not {name for name in moved if name.startswith("cp-")}, moved
    assert router_host(after) == router_host(before)
    # Rendezvous hashing: about 1 in (hosts + 1) moves, never all of them.
    assert len(moved) < len(old) * 2 / (hosts + 1), moved


def test_placement_is_deterministic_and_the_rankings_are_a_permutation() -> None:
    seats = [Seat(vm_id=vm_id, pinned=None, control_plane=vm_id < 204) for vm_id in range(201, 260)]
    assert place(seats, HOSTS) == place(list(reversed(seats)), HOSTS)
    for vm_id in range(200, 260):
        assert sorted(ranking(vm_id, HOSTS)) == sorted(HOSTS)


def test_workers_use_every_host_of_a_big_lab() -> None:
    seats = [Seat(vm_id=vm_id, pinned=None, control_plane=False) for vm_id in range(300, 400)]
    counts = [list(place(seats, HOSTS).values()).count(host) for host in HOSTS]
    assert min(counts) >= 10, counts  # 100 workers over 5 hosts: none left empty or starved
