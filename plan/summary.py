"""The plan's human summary and its JSON form."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from components import outputs
from config.guests import lab_guests
from plan.graph import longest_chain
from plan.run import PlanResult


def _components(result: PlanResult) -> list[tuple[str, str, int]]:
    """Top-level components with the number of resources inside each."""
    by_urn = {r.urn: r for r in result.registrations}
    counts: Counter[str] = Counter()
    for registration in result.registrations:
        top = registration
        while top.parent in by_urn:
            top = by_urn[top.parent]
        if top is not registration:
            counts[top.urn] += 1
    return [(r.name, r.type, counts[r.urn]) for r in result.registrations if r.parent not in by_urn]


def summary_data(result: PlanResult) -> dict[str, Any]:
    config = result.config
    return {
        "stack": result.stack,
        "resources": len(result.registrations),
        "customResources": sum(r.custom for r in result.registrations),
        "components": [{"name": n, "type": t, "resources": c} for n, t, c in _components(result)],
        "longestChain": len(longest_chain(result.registrations)),
        "guests": [
            {"name": g.name, "role": g.role.value, "address": str(g.address), "mac": g.mac, "host": g.proxmox_node}
            for g in lab_guests(config)
        ],
        "router": {"wan": str(config.network.router.wan_address), "lan": str(config.network.router.address)},
        "requestPath": outputs.request_path(config),
        "laptop": {
            "hostsLine": outputs.hosts_line(config),
            "routesLinux": outputs.laptop_routes_linux(config),
            "routesMacos": outputs.laptop_routes_macos(config),
            "httpsUrl": outputs.site_https_url(config),
        },
        "outputs": result.outputs,
    }


def summary_json(result: PlanResult) -> str:
    return json.dumps(summary_data(result), indent=2, sort_keys=True) + "\n"


def summary_text(result: PlanResult) -> str:
    data = summary_data(result)
    lines = [
        f"homelab plan: stack {data['stack']}: {data['resources']} resources "
        f"({data['customResources']} managed by providers), longest dependency chain {data['longestChain']}",
        "",
        "Components:",
        *(f"  {c['name']:<22} {c['type']:<38} {c['resources']:>3} resources" for c in data["components"]),
        "",
        "Guests (DHCP reservations on the lab bridge):",
        *(f"  {g['name']:<16} {g['role']:<13} {g['address']:<16} {g['mac']}  on {g['host']}" for g in data["guests"]),
        f"  router           WAN {data['router']['wan']}, LAN {data['router']['lan']}",
        "",
        "Request path:",
        *(f"  {index}. {step}" for index, step in enumerate(data["requestPath"], start=1)),
        "",
        "On the laptop:",
        f"  /etc/hosts:  {data['laptop']['hostsLine']}",
        *(f"  Linux:       {route}" for route in data["laptop"]["routesLinux"]),
        *(f"  macOS:       {route}" for route in data["laptop"]["routesMacos"]),
        f"  HTTPS:       {data['laptop']['httpsUrl']} once the lab CA is trusted "
        "(pulumi stack output caCertificate > lab-ca.pem; README: Trusting the lab CA)",
        "",
        "Stack outputs:",
        *(f"  {name}: {json.dumps(value)}" for name, value in sorted(data["outputs"].items())),
    ]
    return "\n".join(lines) + "\n"
