"""`homelab diff` output: text for people (replacements first, with why), JSON for tools."""

from __future__ import annotations

import json
from collections import Counter

from plan.diff import ACTIONS, Change

_SYMBOLS = {"replace": "+-", "create": "+", "update": "~", "delete": "-"}
_HEADINGS = {
    "replace": "to replace",
    "create": "to create",
    "update": "to update",
    "delete": "to delete",
}


def diff_json(changes: list[Change]) -> str:
    return json.dumps({"changes": [change.as_json() for change in changes]}, indent=2) + "\n"


def diff_text(old: str, new: str, changes: list[Change], rollout: list[str] | None = None) -> str:
    """`rollout`: the upgrade steps the cluster's rollout command will take (nodes on target are skipped)."""
    if not changes:
        return f"homelab diff {old} -> {new}: no changes\n"
    counts = Counter(change.action for change in changes)
    summary = ", ".join(f"{counts[action]} {_HEADINGS[action]}" for action in ACTIONS if counts[action])
    lines = [f"homelab diff {old} -> {new}: {summary}"]
    for action in ACTIONS:
        group = [change for change in changes if change.action == action]
        if not group:
            continue
        lines += ["", f"{_HEADINGS[action]}:"]
        for change in group:
            lines += _describe(change)
    if rollout:
        lines += ["", "upgrade steps the rollout will run, one at a time (a node already on target is skipped):"]
        lines += [f"  {number}. {step}" for number, step in enumerate(rollout, start=1)]
    return "\n".join(lines) + "\n"


def _describe(change: Change) -> list[str]:
    head = f"  {_SYMBOLS[change.action]} {change.name}  ({change.type})"
    if change.action == "replace":
        order = "delete first, then create" if change.delete_before_replace else "create first, then delete"
        lines = [f"{head}  [{order}]"]
        lines += [f"      why: {reason}" for reason in change.reason.split("; ")]
        if change.paths:
            lines.append(f"      changes: {', '.join(change.paths)}")
        return lines
    if change.action == "update":
        return [head, f"      changes: {', '.join(change.paths)}"]
    return [head]
