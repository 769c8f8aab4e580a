"""What `pulumi up` would do to a running lab: two plans compared with the engine's semantics (DESIGN §6).

Resources are matched by URN. Per resource: `create`, `delete`, `update` (the input paths that change,
minus `ignoreChanges`) or `replace` (an input the provider forces a new resource on, see
`diff.replacements`, a `replaceOnChanges` path, a replaced `replaceWith` target or provider).
What a replacement makes unknown in a preview (its outputs) counts as changed in what consumes it.
Secret inputs are compared by keyed digest, never by value.
A resource matches the old one with its URN or, as in the engine, with an alias (`plan.aliases`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from diff.replacements import (
    KEPT_ON_UPDATE,
    UNKNOWN_AFTER_UPDATE,
    Rule,
    deletes_before_replace,
    forcing,
    rules_for,
)
from plan.aliases import match_olds
from plan.monitor import Registration
from plan.run import PlanResult

ACTIONS = ("replace", "create", "update", "delete")


@dataclass(frozen=True)
class Change:
    urn: str
    type: str
    name: str
    action: str
    paths: list[str]
    reason: str
    delete_before_replace: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "paths": self.paths,
            "reason": self.reason,
            "deleteBeforeReplace": self.delete_before_replace,
        }


class UnknownType(Exception):
    """A registered type without replacement rules: the diff would have to guess."""


@dataclass
class _Pending:
    new: Registration
    paths: list[str] = field(default_factory=list[str])
    reasons: list[str] = field(default_factory=list[str])
    replaced: bool = False


def diff_plans(old: PlanResult, new: PlanResult) -> list[Change]:
    """The change set from OLD to NEW, in NEW's dependency order, deletions last."""
    before = {r.urn: r for r in old.registrations}
    for registration in new.registrations:
        if registration.custom and rules_for(registration.type) is None:
            raise UnknownType(f"no replacement rules for {registration.type}")
    matched = match_olds(new.registrations, set(before))
    pending: dict[str, _Pending] = {}
    changes: dict[str, Change] = {}
    # Changed only where ignoreChanges keeps the old value: the engine keeps the old outputs too.
    unchanged_outputs: set[str] = set()
    for registration in new.registrations:
        previous = before.get(matched.get(registration.urn, ""))
        if previous is None:
            changes[registration.urn] = _change(registration, "create", [], "not in the running lab")
            continue
        if not registration.custom:
            continue
        kept = {urn for urn, other in pending.items() if other.paths and other.new.type in KEPT_ON_UPDATE}
        kept |= unchanged_outputs
        pending[registration.urn] = _compared(previous, registration, kept)
        if _only_ignored_differ(previous, registration):
            unchanged_outputs.add(registration.urn)
    _propagate(pending)
    deleted_first = _deleted_first(pending)
    for urn, item in pending.items():
        if item.replaced:
            changes[urn] = _change(
                item.new,
                "replace",
                item.paths,
                "; ".join(dict.fromkeys(item.reasons)),
                delete_before_replace=urn in deleted_first,
            )
        elif item.paths:
            changes[urn] = _change(item.new, "update", item.paths, "")
    ordered = [changes[r.urn] for r in new.registrations if r.urn in changes]
    remaining = set(matched.values())
    # Deleted last, dependents first (the reverse of the order they were created in).
    return ordered + [
        _change(r, "delete", [], "not in the new config") for r in reversed(old.registrations) if r.urn not in remaining
    ]


def _compared(previous: Registration, registration: Registration, kept: set[str]) -> _Pending:
    """The resource's own changes: its changed inputs (minus those only from outputs kept on an update),
    and what forces its replacement."""
    item = _Pending(registration)
    for path in changed_paths(previous, registration):
        if _only_from(kept, registration, path):
            continue
        item.paths.append(path)
        reason = _forces(previous, registration, path)
        if reason:
            item.replaced = True
            item.reasons.append(reason)
    if _trigger_changed(previous, registration):
        item.replaced = True
        item.reasons.append("its replacementTrigger changed (ResourceOptions.replacement_trigger)")
    return item


def _trigger_changed(old: Registration, new: Registration) -> bool:
    """The engine replaces a resource whose `replacement_trigger` value changes (a first trigger only records)."""
    before, after = old.options.replacement_trigger, new.options.replacement_trigger
    return before is not None and after is not None and before != after


def _deleted_first(pending: dict[str, _Pending]) -> set[str]:
    """Replacements whose old resource goes before the new one is created: those asking for it (their
    option, or the provider's own rule), and every replaced resource that depends on one of them, which
    the engine deletes first as well (pulumi/pulumi pkg/resource/deploy/step_generator.go,
    calculateDependentReplacements)."""
    first = {
        urn
        for urn, item in pending.items()
        if item.replaced
        and (item.new.options.delete_before_replace or deletes_before_replace(item.new.type, item.new.inputs))
    }
    settled = False
    while not settled:
        settled = True
        for urn, item in pending.items():
            if urn not in first and item.replaced and any(d in first for d in item.new.dependencies):
                first.add(urn)
                settled = False
    return first


def _only_from(kept: set[str], registration: Registration, path: str) -> bool:
    """Whether the input at `path` comes only from outputs their provider keeps on this update."""
    sources = registration.property_dependencies.get(re.split(r"[.\[]", path, maxsplit=1)[0], [])
    return bool(sources) and all(source in kept for source in sources)


def _change(
    registration: Registration, action: str, paths: list[str], reason: str, *, delete_before_replace: bool = False
) -> Change:
    return Change(
        urn=registration.urn,
        type=registration.type,
        name=registration.name,
        action=action,
        paths=paths,
        reason=reason,
        delete_before_replace=delete_before_replace,
    )


def _forces(old: Registration, new: Registration, path: str) -> str:
    rule: Rule | None = forcing(new.type, path, old.inputs, new.inputs)
    if rule is not None:
        return f"{path} forces a new resource ({rule.source})"
    for pattern in new.options.replace_on_changes:
        if _matches(pattern, path):
            return f"{path} is in replaceOnChanges ({pattern})"
    return ""


def _propagate(pending: dict[str, _Pending]) -> None:
    """Replacements spread, until nothing more changes: to `replaceWith` dependents, to every resource
    of a replaced provider, and as unknown outputs into the inputs that consume them."""
    settled = False
    while not settled:
        settled = True
        for item in pending.values():
            for cause in _causes(item, pending):
                reason = cause.why
                if cause.path and _ignored(item.new, cause.path):
                    continue
                if cause.path:
                    if cause.path not in item.paths:
                        item.paths.append(cause.path)
                        settled = False
                    forced = _forces(item.new, item.new, cause.path) or _forcing_unknown(item.new.type, cause.path)
                    reason = f"{forced}: {cause.why}" if forced else ""
                if reason and not item.replaced:
                    item.replaced = True
                    item.reasons.append(reason)
                    settled = False


@dataclass(frozen=True)
class _Cause:
    """Why a resource changes because of another: `path` made unknown, or (no path) replaced outright."""

    path: str
    why: str


def _causes(item: _Pending, pending: dict[str, _Pending]) -> list[_Cause]:
    registration = item.new

    def replaced(urn: str) -> bool:
        other = pending.get(urn)
        return other is not None and other.replaced

    causes = [
        _Cause("", f"replaced with {_name(target)} (replaceWith)")
        for target in registration.options.replace_with
        if replaced(target)
    ]
    if replaced(registration.provider):
        causes.append(_Cause("", f"its provider {_name(registration.provider)} is replaced"))
    for key, sources in registration.property_dependencies.items():
        for source in sources:
            other = pending.get(source)
            if other is not None and other.replaced:
                causes.append(_Cause(key, f"unknown until {_name(source)} is replaced"))
            elif other is not None and other.paths and other.new.type in UNKNOWN_AFTER_UPDATE:
                causes.append(_Cause(key, f"unknown until {_name(source)} is updated"))
    return causes


def _forcing_unknown(type_token: str, path: str) -> str:
    """An unknown value forces a replacement wherever a change of it, or of anything under it, would."""
    for rule in rules_for(type_token) or ():
        if rule.covers(path) or _matches(path, rule.path):
            return f"{path} forces a new resource ({rule.source})"
    return ""


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _matches(pattern: str, path: str) -> bool:
    regex = re.escape(pattern).replace(r"\[\*\]", r"\[\d+\]") + r"(?:$|[.\[])"
    return re.match(regex, path) is not None


def changed_paths(old: Registration, new: Registration) -> list[str]:
    """The input paths whose values differ, leaves first-level deep as the engine reports them, minus
    the new program's `ignoreChanges`; secret values compared by digest."""
    paths = _leaf_differences(_comparable(old), _comparable(new), "")
    return [path for path in paths if not _ignored(new, path)]


def _only_ignored_differ(old: Registration, new: Registration) -> bool:
    differences = _leaf_differences(_comparable(old), _comparable(new), "")
    return bool(differences) and all(_ignored(new, path) for path in differences)


def _ignored(registration: Registration, path: str) -> bool:
    """The engine keeps the old value of an ignored input, whatever the new one is, unknown included."""
    return any(_matches(ignored, path) for ignored in registration.options.ignore_changes)


def _comparable(registration: Registration) -> dict[str, Any]:
    inputs: Any = registration.inputs
    for path, digest in registration.secret_digests.items():
        inputs = _replace_at(inputs, path, f"[secret {digest}]")
    return inputs


_STEP = re.compile(r"\.?([^.\[\]]+)|\[(\d+)\]")


def _replace_at(value: Any, path: str, replacement: str) -> Any:
    steps: list[tuple[str, int | None]] = [
        (str(key), int(index) if index else None) for key, index in _STEP.findall(path)
    ]

    def walk(current: Any, remaining: list[tuple[str, int | None]]) -> Any:
        if not remaining:
            return replacement
        (key, index), rest = remaining[0], remaining[1:]
        if index is not None and isinstance(current, list) and index < len(current):
            copy = list(current)
            copy[index] = walk(current[index], rest)
            return copy
        if key and isinstance(current, dict):
            return {**current, key: walk(current.get(key), rest)}
        return current

    return walk(value, steps)


def _leaf_differences(old: Any, new: Any, path: str) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        found: list[str] = []
        for key in sorted(set(old) | set(new)):
            child = f"{path}.{key}" if path else str(key)
            found += _leaf_differences(old.get(key), new.get(key), child)
        return found
    if isinstance(old, list) and isinstance(new, list):
        found = []
        for index in range(max(len(old), len(new))):
            found += _leaf_differences(
                old[index] if index < len(old) else None, new[index] if index < len(new) else None, f"{path}[{index}]"
            )
        return found
    return [] if old == new else [path]
