"""The plan's human summary and its JSON form (DESIGN §6)."""

from __future__ import annotations

import json
from typing import Any

from components import outputs
from plan.choices import choice_lines, choices, manual_steps
from plan.graph import dependency_order, longest_chain
from plan.inventory import guest_rows, host_totals
from plan.run import PlanResult

PROVIDER_PREFIX = "pulumi:providers:"
KNOWN_AFTER_UP = "(known after pulumi up)"


def _components(result: PlanResult) -> list[tuple[str, str, int]]:
    """Top-level components in dependency order, with the number of resources inside each.

    Providers are not components: they are listed with what they serve, not counted here.
    """
    by_urn = {r.urn: r for r in result.registrations}
    counts: dict[str, int] = {}
    for registration in result.registrations:
        top = registration
        while top.parent in by_urn:
            top = by_urn[top.parent]
        if top is not registration:
            counts[top.urn] = counts.get(top.urn, 0) + 1
    return [
        (r.name, r.type, counts.get(r.urn, 0))
        for r in dependency_order(result.registrations)
        if not r.type.startswith(PROVIDER_PREFIX)
    ]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def summary_data(result: PlanResult) -> dict[str, Any]:
    config = result.config
    return {
        "stack": result.stack,
        "resources": len(result.registrations),
        "customResources": sum(r.custom for r in result.registrations),
        "components": [{"name": n, "type": t, "resources": c} for n, t, c in _components(result)],
        "longestChain": len(longest_chain(result.registrations)),
        "guests": [row.as_json() for row in guest_rows(config)],
        "hosts": [totals.as_json() for totals in host_totals(config, result.registrations)],
        "router": {"wan": str(config.network.router.wan_address), "lan": str(config.network.router.address)},
        "requestPath": outputs.request_path(config),
        "laptop": {
            "hostsLine": outputs.hosts_line(config),
            "routesLinux": outputs.laptop_routes_linux(config),
            "routesMacos": outputs.laptop_routes_macos(config),
            "httpsUrl": outputs.site_https_url(config),
        },
        "choices": choices(config),
        "manualSteps": manual_steps(config, result.stack),
        "outputs": {name: _as_planned(value, result.made_up) for name, value in result.outputs.items()},
    }


def _as_planned(value: Any, made_up: frozenset[str]) -> Any:
    """An output as the plan knows it: what a provider computes (a mock stood in) is not known yet."""
    if isinstance(value, dict):
        return {key: _as_planned(item, made_up) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_planned(item, made_up) for item in value]
    if isinstance(value, str) and any(text and text in value for text in made_up):
        return KNOWN_AFTER_UP
    return value


def summary_json(result: PlanResult) -> str:
    return json.dumps(summary_data(result), indent=2, sort_keys=True) + "\n"


def _guest_line(guest: dict[str, Any]) -> str:
    size = f"{guest['cores']} cpu {guest['memoryMiB']:>5} MiB {guest['diskGiB']:>3} GiB"
    where = f"{guest['kind']:<3} {guest['vmId']:<6} on {guest['host']}"
    return f"  {guest['name']:<14} {guest['role']:<12} {where:<20} {size}   {guest['address']:<15} {guest['mac']}"


def _host_lines(host: dict[str, Any]) -> list[str]:
    disks = ", ".join(f"{size} GiB on {store}" for store, size in host["diskGiB"].items())
    return [
        f"  {host['host']}: {plural(len(host['guests']), 'guest')}, {host['cores']} cores, "
        f"{host['memoryMiB']} MiB memory, {disks}",
        *(f"    downloads {name}" for name in host["files"]),
    ]


def summary_text(result: PlanResult) -> str:
    data = summary_data(result)
    lines = [
        f"homelab plan: stack {data['stack']}: {plural(data['resources'], 'resource')} "
        f"({data['customResources']} managed by providers), longest dependency chain {data['longestChain']}",
        "",
        "Components, in dependency order:",
        *(f"  {c['name']:<22} {c['type']:<38} {plural(c['resources'], 'resource')}" for c in data["components"]),
        "",
        "Your choices (the stack file, with the defaults it leaves):",
        *choice_lines(data["choices"]),
        "",
        "Guests (addresses reserved in the router's DHCP on the lab bridge):",
        *(_guest_line(guest) for guest in data["guests"]),
        f"  router WAN address {data['router']['wan']}",
        "",
        "What each Proxmox host must hold:",
        *(line for host in data["hosts"] for line in _host_lines(host)),
        "",
        "Request path:",
        *(f"  {index}. {step}" for index, step in enumerate(data["requestPath"], start=1)),
        "",
        "On the laptop:",
        f"  /etc/hosts:  {data['laptop']['hostsLine']}",
        *(f"  Linux:       {route}" for route in data["laptop"]["routesLinux"]),
        *(f"  macOS:       {route}" for route in data["laptop"]["routesMacos"]),
        f"  HTTPS:       {data['laptop']['httpsUrl']} once the lab CA is trusted",
        "",
        "Left for you to do (no pulumi up does these):",
        *(f"  {index}. {step}" for index, step in enumerate(data["manualSteps"], start=1)),
        "",
        f"Stack outputs ({KNOWN_AFTER_UP}: computed by a provider, not by this plan):",
        *(f"  {name}: {_output_text(value)}" for name, value in sorted(data["outputs"].items())),
    ]
    return "\n".join(lines) + "\n"


def _output_text(value: Any) -> str:
    return value if value == KNOWN_AFTER_UP else json.dumps(value)
