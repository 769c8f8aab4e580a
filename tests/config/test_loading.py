"""The shape of a stack file (config.loading): what is said when `config:` is missing, namespaces, and which
rules across keys still run beside a wrong value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loading import ConfigError, parse_lab_config, read_stack_file
from tests.support import VALID

_SHAPE = "as in Pulumi.<stack>.yaml"


@pytest.mark.parametrize(
    ("keys", "listed"),
    [
        (["homelab:a"], "homelab:a"),
        (["homelab:a", "homelab:b", "x:c"], "homelab:a, homelab:b, x:c"),
        (["homelab:a", "homelab:b", "x:c", "homelab:d"], "homelab:a, homelab:b, x:c, ..."),
    ],
)
def test_keys_outside_config_are_named_up_to_three(tmp_path: Path, keys: list[str], listed: str) -> None:
    stack = tmp_path / "Pulumi.lab.yaml"
    stack.write_text("".join(f"{key}: 1\n" for key in keys), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(stack)
    message = f"no top-level 'config:' key; {listed} belong indented under 'config:', {_SHAPE}"
    assert [str(problem) for problem in caught.value.problems] == [f"{stack}: {message}"]


def test_a_file_without_config_or_namespaced_keys_says_where_settings_go(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.lab.yaml"
    stack.write_text("encryptionsalt: abc\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(stack)
    message = f"no top-level 'config:' key; a stack file keeps its settings under 'config:', {_SHAPE}"
    assert [str(problem) for problem in caught.value.problems] == [f"{stack}: {message}"]


def _ha(**edits: Any) -> dict[str, Any]:
    """The ha stack's `homelab:` keys (two hosts, bridge ports), with `edits` as {"section.key": value}."""
    document = yaml.safe_load((VALID / "ha-two-hosts.yaml").read_text(encoding="utf-8"))
    raw = {key.removeprefix("homelab:"): value for key, value in document["config"].items() if ":" in key}
    raw = {key: value for key, value in raw.items() if not key.startswith("proxmoxve")}
    for path, value in edits.items():
        section, key = path.split(".")
        raw[section][key] = value
    return raw


def _problems(raw: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_lab_config(raw)
    return [str(problem) for problem in caught.value.problems]


VIP_OUTSIDE = "cluster.vip: 10.0.0.1 is outside network.cidr 10.77.0.0/24"


def test_a_wrong_mapping_entry_does_not_hide_the_rules_that_do_not_name_it() -> None:
    raw = _ha(
        **{
            "cluster.vip": "10.0.0.1",
            "network.bridgePorts": {"pve-a": "enp2s0", "pve-b": ["enp2s0"], "pve-c": ["enp2s0"]},
        }
    )
    # Read without pve-a's entry, pve-a's bridge would lack a port: that rule names the wrong entry, so it is left out.
    assert _problems(raw) == ["network.bridgePorts.pve-a: expected a list, got the string 'enp2s0'", VIP_OUTSIDE]


@pytest.mark.parametrize(
    ("edits", "problem"),
    [
        ({"network.upstreamDns": ["9.9.9.9", "nine"]}, "network.upstreamDns[1]: 'nine' is not an IPv4 address"),
        ({"network.bridgePorts": {"pve a": ["enp2s0"]}}, "network.bridgePorts.'pve a': "),
        ({"network.cidr": "10.77.0.0/33"}, "network.cidr: '10.77.0.0/33' is not an IPv4 CIDR"),
    ],
    ids=["list-item", "mapping-key", "required-key"],
)
def test_a_wrong_value_without_a_default_leaves_the_rules_for_the_next_run(edits: dict[str, Any], problem: str) -> None:
    problems = _problems(_ha(**{"cluster.vip": "10.0.0.1", **edits}))
    assert VIP_OUTSIDE not in problems
    assert len(problems) == 1 and problems[0].startswith(problem), problems
