"""Values at their boundaries (types, bounds, rules) and how problems are worded (config.messages).

The fixtures show one mistake per file; these tables pin the edges on both sides, so moving a
bound by one or inverting a comparison fails here.
"""

from __future__ import annotations

import ipaddress
import json
import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from config import types
from config.loading import MAX_FILE_BYTES, ConfigError, load_stack_file, parse_lab_config, read_stack_file
from config.messages import MAX_PROBLEMS, Problem, bounded, describe, path_text, quoted, shorten
from tests.support import REPO

EXAMPLE = REPO / "Pulumi.dev.yaml"


def _accepts(kind: Any, value: Any) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (types.DnsLabel, "a" * 63, "a" * 64),
        (types.DnsLabel, "a", "a-"),
        (types.DnsName, ".".join(["a" * 63] * 3) + "." + "a" * 61, ".".join(["a" * 63] * 4) + ".aa"),
        (types.DnsName, "example.com.", "example.com.."),
        (types.DnsName, "a1.b2", "a1.22"),
        (types.DnsName, "a.12.b", "a.b.12"),
        (types.DnsName, ".".join(["a" * 63] * 3) + "." + "a" * 61, ".".join(["a" * 63] * 3) + "." + "a" * 62),
        (types.InterfaceName, "e" * 15, "e" * 16),
        (types.InterfaceName, "en", "e"),
        (types.InterfaceName, "eno1.20", "eno1.x"),
        (types.StorageId, "ab", "a"),
        (types.StorageId, "Local_2.x-y", "local/x"),
        (types.MacAddress, "00:00:00:00:00:01", "00:00:00:00:00:00"),
        (types.MacAddress, "02:00:00:00:00:00", "01:00:00:00:00:00"),
        (types.Ipv4Address, "1.0.0.0", "0.255.255.255"),
        (types.Ipv4Address, "126.255.255.255", "127.0.0.0"),
        (types.Ipv4Address, "169.253.255.255", "169.254.0.0"),
        (types.Ipv4Address, "223.255.255.255", "224.0.0.0"),
        (types.Ipv4Address, "223.255.255.254", "255.255.255.255"),
        (types.Ipv4Network, "1.0.0.0/8", "0.0.0.0/8"),
        (types.Ipv4Network, "192.0.0.0/3", "192.0.0.0/2"),  # 192.0.0.0/2 takes in multicast and broadcast
        (types.SourceNetwork, "0.0.0.0/0", "0.0.0.0/1"),
        (types.Ipv4Interface, "10.0.0.1/30", "10.0.0.3/30"),
        (types.Ipv4Interface, "10.0.0.0/31", "10.0.0.0/30"),
        (types.Ipv4Interface, "10.0.0.0/32", "127.0.0.1/32"),
        (types.DiskPath, "/dev/nvme0n1", "/dev/"),
        (types.DiskPath, "/dev/disk/by-id/x_1", "/dev/sda/"),
        (types.SshPublicKey, "ssh-ed25519 " + "A" * (types.MAX_SSH_KEY_LENGTH - 12), "ssh-ed25519 " + "A" * 16_373),
        (types.TalosVersion, "v1.13.0", "v1.13.00"),
        (types.KubernetesVersion, "v1.31.0", "1.30.99"),
        (types.KubernetesVersion, "1.36.999999", "1.36.1000000"),
        (types.VmId, 100, 99),
        (types.VmId, 999_999_999, 1_000_000_000),
        (types.VmId, 200, True),
    ],
)
def test_type_boundaries(kind: Any, good: Any, bad: Any) -> None:
    assert _accepts(kind, good)
    assert not _accepts(kind, bad)


def test_strings_are_read_without_surrounding_blanks_where_that_is_harmless() -> None:
    assert TypeAdapter(types.DnsLabel).validate_python(" pve ") == "pve"
    assert TypeAdapter(types.Ipv4Address).validate_python(" 10.0.0.1\n") == ipaddress.IPv4Address("10.0.0.1")
    assert TypeAdapter(types.MacAddress).validate_python("02:ab:00:00:00:01") == "02:AB:00:00:00:01"
    assert TypeAdapter(types.DnsName).validate_python("www.example.com.") == "www.example.com"
    assert TypeAdapter(types.KubernetesVersion).validate_python("v1.36.3") == "1.36.3"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (2.5, "2.5"),
        (math.inf, ".inf"),
        (-math.inf, "-.inf"),
        (math.nan, ".nan"),
        ("x", "the string 'x'"),
        ("a\nb", "the string 'a\\nb'"),
        ([1], "a list"),
        ((1,), "a list"),
        ({"a": 1}, "a mapping"),
        (10**100, "1" + "0" * 76 + "..."),
        (ipaddress.IPv4Address("10.0.0.1"), "10.0.0.1"),
    ],
)
def test_describe_in_the_stack_file_words(value: Any, text: str) -> None:
    assert describe(value) == text


def test_shorten_past_80_characters() -> None:
    assert shorten("x" * 80) == "x" * 80
    assert shorten("x" * 81) == "x" * 77 + "..."
    assert len(quoted("y" * 500)) == 80


@pytest.mark.parametrize(
    ("loc", "text"),
    [
        (("cluster", "workers", 1, "address"), "cluster.workers[1].address"),
        (("network", "bridgePorts", "pve", "[key]"), "network.bridgePorts.pve"),
        (("a b",), "'a b'"),
        (("ok", "x" * 81), "ok.'" + "x" * 76 + "..."),
        (("homelb:site",), "homelb:site"),
    ],
)
def test_paths(loc: tuple[int | str, ...], text: str) -> None:
    assert path_text(loc) == text


def test_problems_are_bounded() -> None:
    problems = [Problem("p", str(index)) for index in range(MAX_PROBLEMS + 7)]
    assert bounded(problems[:MAX_PROBLEMS]) == problems[:MAX_PROBLEMS]
    shown = bounded(problems)
    assert shown[:MAX_PROBLEMS] == problems[:MAX_PROBLEMS]
    assert shown[MAX_PROBLEMS:] == [Problem("", "... and 7 more problems")]
    assert str(shown[-1]) == "... and 7 more problems"
    assert str(ConfigError(problems)).count("\n") == MAX_PROBLEMS


def _example() -> dict[str, Any]:
    values, _ = read_stack_file(EXAMPLE)
    return {key.removeprefix("homelab:"): json.loads(value) for key, value in values.items() if "homelab:" in key}


def _problems(raw: dict[str, Any]) -> list[str]:
    try:
        parse_lab_config(raw)
    except ConfigError as error:
        return [str(problem) for problem in error.problems]
    return []


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (("cluster", "podCidr", "10.244.0.0/22"), []),  # 4 node /24s for 3 nodes
        (("cluster", "workers", [{"name": "w", "address": "192.168.1.202", "vmId": 202}]), []),
        (("cluster", "podCidr", "10.244.0.0/24"), ["cluster.podCidr: 10.244.0.0/24 holds 1 node pod networks"]),
        (("cluster", "serviceCidr", "10.96.0.0/28"), []),
        (("cluster", "serviceCidr", "10.96.0.0/12"), []),
        (("cluster", "serviceCidr", "10.96.0.0/11"), ["cluster.serviceCidr: 10.96.0.0/11 is a /11"]),
        (("network", "router", "wanAddress", "192.168.0.200/31"), []),
        (("network", "router", "wanAddress", "192.168.0.201/30"), ["network.router.wanGateway: 192.168.0.203 is"]),
        (("network", "dynamicRange", {"start": "192.168.1.10", "end": "192.168.1.10"}), []),
        (("network", "dynamicRange", {"start": "192.168.1.1", "end": "192.168.1.199"}), []),
        (("network", "dynamicRange", {"start": "192.168.1.205", "end": "192.168.1.254"}), []),
        (("network", "upstreamDns", ["192.168.1.201"]), []),  # a guest may run a DNS server
        (("site", "replicas", 50), []),
        (("site", "replicas", 1), []),
    ],
)
def test_rule_boundaries(edit: tuple[Any, ...], expected: list[str]) -> None:
    raw = _example()
    *path, key, value = edit
    node = raw
    for part in path:
        node = node[part]
    if key == "wanAddress":
        raw["network"]["router"]["wanGateway"] = "192.168.0.203" if value.endswith("/30") else "192.168.0.201"
    node[key] = value
    if key == "workers":  # two Talos nodes in exactly two node pod networks
        raw["cluster"]["podCidr"] = "10.244.0.0/23"
    problems = _problems(raw)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start)


def test_file_size_bound(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    stack = tmp_path / "Pulumi.big.yaml"
    stack.write_text(text + "#" * (MAX_FILE_BYTES - len(text.encode())), encoding="utf-8")
    load_stack_file(stack)
    stack.write_text(text + "#" * (MAX_FILE_BYTES - len(text.encode()) + 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{MAX_FILE_BYTES + 1} bytes; a stack file is at most {MAX_FILE_BYTES}"):
        load_stack_file(stack)


@pytest.mark.parametrize("prefix", [b"\xef\xbb\xbf", b""])
def test_utf8_with_or_without_byte_order_mark(tmp_path: Path, prefix: bytes) -> None:
    stack = tmp_path / "Pulumi.bom.yaml"
    stack.write_bytes(prefix + EXAMPLE.read_bytes())
    assert load_stack_file(stack) == load_stack_file(EXAMPLE)


def test_utf16_big_endian_is_named(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.be.yaml"
    stack.write_bytes(EXAMPLE.read_text(encoding="utf-8").encode("utf-16-be").join([b"\xfe\xff", b""]))
    with pytest.raises(ConfigError, match="the file is UTF-16 text; save it as UTF-8"):
        load_stack_file(stack)


def test_an_unreadable_stack_file_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "Pulumi.missing.yaml"
    with pytest.raises(ConfigError) as caught:
        load_stack_file(missing)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{missing}: cannot read the stack file: No such file or directory"
    ]


@pytest.mark.parametrize(("text", "value"), [("null", None), ("[1, 2", "[1, 2"), ("[" * 5000, "[" * 5000)])
def test_values_from_pulumi_are_decoded_when_they_are_json(text: str, value: Any) -> None:
    from config.loading import _decode  # pyright: ignore[reportPrivateUsage]

    assert _decode(text) == value


def _message(kind: Any, value: Any) -> str:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(kind).validate_python(value)
    return str(caught.value.errors()[0]["msg"]).removeprefix("Value error, ")


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (types.SshPublicKey, 5, "expected an SSH public key, got 5"),
        (
            types.SshPublicKey,
            "ssh-rsa " + "=" * 60,
            f"{quoted('ssh-rsa ' + '=' * 32)} is not an OpenSSH public key line",
        ),
        (types.Ipv4Interface, "x" * 90, f"{quoted('x' * 90)} needs a prefix length (e.g. {'x' * 77}.../24)"),
        (types.Ipv4Interface, "x" * 80, f"{quoted('x' * 80)} needs a prefix length (e.g. {'x' * 80}/24)"),
        (types.Ipv4Interface, None, "expected an IPv4 address with prefix length, got null"),
        (types.Ipv4Network, [], "expected an IPv4 CIDR, got a list"),
        (types.MacAddress, 1, "expected a MAC address, got 1"),
        (types.DnsName, {}, "expected a DNS name, got a mapping"),
        (types.InterfaceName, 1.5, "expected an interface name, got 1.5"),
        (types.StorageId, True, "expected a Proxmox storage id, got true"),
        (types.DiskPath, 0, "expected a disk path, got 0"),
        (types.TalosVersion, 1.13, "expected a Talos version, got 1.13"),
        (types.KubernetesVersion, None, "expected a Kubernetes version, got null"),
        (types.DnsLabel, None, "expected a name, got null"),
        (types.Ipv4Address, "0.1.2.3", "0.1.2.3 is an unspecified address, not one a host can have"),
        (types.Ipv4Address, "127.0.0.1", "127.0.0.1 is a loopback address, not one a host can have"),
        (types.Ipv4Network, "224.0.0.0/24", "224.0.0.0/24 overlaps the multicast range, not a subnet of hosts"),
        (types.Ipv4Network, "0.0.0.0/0", "0.0.0.0/0 overlaps the unspecified range, not a subnet of hosts"),
    ],
)
def test_type_messages(kind: Any, value: Any, message: str) -> None:
    assert _message(kind, value) == message


def test_unknown_hosts_are_listed_as_the_stack_writes_them() -> None:
    raw = _example()
    raw["proxmox"]["nodes"] = ["pve-a", "pve-b"]
    raw["network"]["router"]["proxmoxNode"] = "pve-c"
    raw["network"]["bridgePorts"] = {"pve-a": ["eno1"], "pve-b": ["eno1"]}
    assert _problems(raw) == ["network.router.proxmoxNode: pve-c is not one of proxmox.nodes [pve-a, pve-b]"]


@pytest.mark.parametrize(
    ("path", "key", "problem"),
    [
        (
            ("cluster", "controlPlanes", 0),
            "memoryMb",
            "cluster.controlPlanes[0].memoryMb: unknown key (did you mean 'memoryMiB'?)",
        ),
        (("network", "dynamicRange"), "ends", "network.dynamicRange.ends: unknown key (did you mean 'end'?)"),
        (("loadBalancer",), "pools", "loadBalancer.pools: unknown key (did you mean 'pool'?)"),
        (("loadBalancer",), "zzz", "loadBalancer.zzz: unknown key"),
        ((), "qqq", "qqq: unknown key"),
    ],
)
def test_unknown_keys_with_and_without_a_suggestion(path: tuple[Any, ...], key: str, problem: str) -> None:
    raw = _example()
    raw["network"]["dynamicRange"] = {"start": "192.168.1.10", "end": "192.168.1.20"}
    node = raw
    for part in path:
        node = node[part]
    node[key] = 1
    assert _problems(raw) == [problem]
