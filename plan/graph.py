"""The resource graph of a plan: a Mermaid chart of components and the longest chain."""

from __future__ import annotations

from plan.monitor import Registration


def _component_of(registration: Registration, by_urn: dict[str, Registration]) -> str:
    """The outermost component a resource belongs to (itself when top-level)."""
    current = registration
    while current.parent in by_urn:
        current = by_urn[current.parent]
    return current.urn


def _node_id(urn: str, ids: dict[str, str]) -> str:
    return ids.setdefault(urn, f"n{len(ids)}")


def mermaid(registrations: list[Registration]) -> str:
    """Components (top-level resources) and the dependencies between them."""
    by_urn = {r.urn: r for r in registrations}
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    tops = [r for r in registrations if r.parent not in by_urn]
    for top in tops:
        lines.append(f'  {_node_id(top.urn, ids)}["{top.name}<br/><small>{top.type}</small>"]')
    edges: set[tuple[str, str]] = set()
    for registration in registrations:
        target = _component_of(registration, by_urn)
        for dependency in (*registration.dependencies, registration.provider):
            if dependency in by_urn:
                source = _component_of(by_urn[dependency], by_urn)
                if source != target:
                    edges.add((source, target))
    order = {r.urn: index for index, r in enumerate(registrations)}
    for source, target in sorted(edges, key=lambda edge: (order[edge[0]], order[edge[1]])):
        lines.append(f"  {_node_id(source, ids)} --> {_node_id(target, ids)}")
    return "\n".join(lines) + "\n"


def longest_chain(registrations: list[Registration]) -> list[str]:
    """The longest path of custom resources through their dependencies (the `pulumi up` critical path).

    A dependency on a component stands for a dependency on every custom resource inside it;
    a resource also waits for its explicit provider.
    """
    by_urn = {r.urn: r for r in registrations}
    members: dict[str, list[str]] = {}
    for registration in registrations:
        if registration.custom:
            ancestor = registration.parent
            while ancestor in by_urn:
                members.setdefault(ancestor, []).append(registration.urn)
                ancestor = by_urn[ancestor].parent
    best: dict[str, list[str]] = {}
    for registration in registrations:  # topological order: dependencies come first
        if not registration.custom:
            continue
        longest: list[str] = []
        for dependency in (*registration.dependencies, registration.provider):
            for upstream in members.get(dependency, [dependency]):
                chain = best.get(upstream, [])
                if len(chain) > len(longest):
                    longest = chain
        best[registration.urn] = [*longest, registration.urn]
    return max(best.values(), key=len, default=[])
