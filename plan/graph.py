"""The resource graph of a plan: a Mermaid chart of components and the longest chain."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plan.inventory import guest_rows
from plan.monitor import Registration

if TYPE_CHECKING:
    from plan.run import PlanResult


def _component_of(registration: Registration, by_urn: dict[str, Registration]) -> str:
    """The outermost component a resource belongs to (itself when top-level)."""
    current = registration
    while current.parent in by_urn:
        current = by_urn[current.parent]
    return current.urn


def component_edges(registrations: list[Registration]) -> set[tuple[str, str]]:
    """(upstream, downstream) between top-level resources: what any resource inside one waits for in another."""
    by_urn = {r.urn: r for r in registrations}
    edges: set[tuple[str, str]] = set()
    for registration in registrations:
        target = _component_of(registration, by_urn)
        for dependency in (*registration.dependencies, registration.provider):
            if dependency in by_urn:
                source = _component_of(by_urn[dependency], by_urn)
                if source != target:
                    edges.add((source, target))
    return edges


def without_shortcuts(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges no longer path implies (transitive reduction of a DAG): a chart a person can follow."""
    after: dict[str, set[str]] = {}
    for source, target in edges:
        after.setdefault(source, set()).add(target)

    def reachable_without(source: str, target: str) -> bool:
        todo = [n for n in after.get(source, set()) if n != target]
        seen: set[str] = set()
        while todo:
            node = todo.pop()
            if node == target:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(after.get(node, set()))
        return False

    return {(source, target) for source, target in edges if not reachable_without(source, target)}


def dependency_order(registrations: list[Registration]) -> list[Registration]:
    """Top-level resources, each after everything it waits for; ties in registration order."""
    urns = {r.urn for r in registrations}
    tops = [r for r in registrations if r.parent not in urns]
    waiting: dict[str, set[str]] = {top.urn: set() for top in tops}
    for source, target in component_edges(registrations):
        waiting[target].add(source)
    placed: set[str] = set()
    result: list[Registration] = []
    while len(result) < len(tops):
        ready = next(top for top in tops if top.urn not in placed and waiting[top.urn] <= placed)
        placed.add(ready.urn)
        result.append(ready)
    return result


def mermaid(registrations: list[Registration], notes: dict[str, str] | None = None) -> str:
    """Components in dependency order, the dependencies between them without shortcuts.

    `notes` adds a line under a component's name (by name): a guest's address, VM id and host.
    """
    notes = notes or {}
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    tops = dependency_order(registrations)
    for index, top in enumerate(tops):
        ids[top.urn] = f"n{index}"
        note = f"<br/>{notes[top.name]}" if top.name in notes else ""
        lines.append(f'  n{index}["{top.name}{note}<br/><small>{top.type}</small>"]')
    order = {top.urn: index for index, top in enumerate(tops)}
    edges = without_shortcuts(component_edges(registrations))
    for source, target in sorted(edges, key=lambda edge: (order[edge[0]], order[edge[1]])):
        lines.append(f"  {ids[source]} --> {ids[target]}")
    return "\n".join(lines) + "\n"


def plan_graph(result: PlanResult) -> str:
    """`graph.mmd`: the components, with where each guest lives."""
    notes = {
        row.key: f"{row.name} · {row.address} · {row.kind} {row.vm_id} on {row.host}"
        for row in guest_rows(result.config)
    }
    return mermaid(result.registrations, notes)


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
