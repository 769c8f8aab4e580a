"""`homelab diff` output: text for people (hazards first, then replacements with why), JSON for tools."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from diff.compare import StackDiff
from diff.engine import ACTIONS, Change

_SYMBOLS = {"replace": "+-", "create": "+", "update": "~", "delete": "-"}
_HEADINGS = {
    "replace": "to replace",
    "create": "to create",
    "update": "to update",
    "delete": "to delete",
}


def diff_json(result: StackDiff) -> str:
    document: dict[str, Any] = {
        "hazards": [hazard.as_json() for hazard in result.hazards],
        "changes": [change.as_json() for change in result.changes],
    }
    return json.dumps(document, indent=2) + "\n"


def diff_text(old: str, new: str, result: StackDiff) -> str:
    changes = result.changes
    if not changes and not result.hazards:
        return f"homelab diff {old} -> {new}: no changes\n"
    counts = Counter(change.action for change in changes)
    summary = ", ".join(f"{counts[action]} {_HEADINGS[action]}" for action in ACTIONS if counts[action])
    lines = [f"homelab diff {old} -> {new}: {summary or 'no resource changes'}"]
    if result.hazards:
        lines += ["", "hazards (what the running lab loses or needs from you):"]
        for hazard in result.hazards:
            lines.append(f"  ! {hazard.kind.value}: {hazard.subject}")
            lines.append(f"      {hazard.why}")
    for action in ACTIONS:
        group = [change for change in changes if change.action == action]
        if not group:
            continue
        lines += ["", f"{_HEADINGS[action]}:"]
        for change in group:
            lines += _describe(change)
    if result.rollout:
        lines += ["", "upgrade steps the rollout will run, one at a time (a node already on target is skipped):"]
        lines += [f"  {number}. {step}" for number, step in enumerate(result.rollout, start=1)]
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
