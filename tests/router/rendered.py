"""The router's files as the tests of this folder read them: rendered once per stack, line queries."""

from __future__ import annotations

import ipaddress
from functools import cache

import yaml

from components.router.files import RouterFiles, render_router_files
from config.loading import parse_lab_config
from config.models import LabConfig
from tests.support import STACKS, stack_config


@cache
def files(stack: str) -> RouterFiles:
    return render_router_files(stack_config(stack))


def with_dynamic_range() -> LabConfig:
    """The example stack plus a dynamic range: 50 addresses from the 101st host of the LAN."""
    document = yaml.safe_load(STACKS["dev"].read_text(encoding="utf-8"))["config"]
    raw = {key.removeprefix("homelab:"): value for key, value in document.items() if key.startswith("homelab:")}
    hosts = list(ipaddress.IPv4Network(raw["network"]["cidr"]).hosts())
    raw["network"] = {**raw["network"], "dynamicRange": {"start": str(hosts[100]), "end": str(hosts[149])}}
    return parse_lab_config(raw)


def lines(text: str, prefix: str) -> list[str]:
    return [line.removeprefix(prefix) for line in text.splitlines() if line.startswith(prefix)]


def rule(ruleset: str, *parts: str) -> list[str]:
    return [line.strip() for line in ruleset.splitlines() if all(part in line for part in parts)]
