"""Aliases as the engine resolves them: which old resource a new registration takes over.

The engine (pulumi/pulumi pkg/resource/deploy/step_generator.go) collapses each alias a
resource declares to a URN (`collapseAliasToUrn`: unset name, type and parent are the
resource's own), and when a resource's parent was matched through an alias, adds the
alias its parent implies (`inheritedChildAlias`: a child named `<parent>-<what>` is looked
for as `<parent's old name>-<what>`). `generateSteps` looks a resource up by its URN
first, then by each alias in order; the first old resource found is the match.

URNs are built the way the mock monitor builds them (its parent's own type, the stack's
included, where the engine uses the whole chain without the stack), so they match the URNs
the plans hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

URN_PREFIX = "urn:pulumi:"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class UrnParts:
    stack: str
    project: str
    qualified_type: str
    name: str

    @property
    def type(self) -> str:
        return self.qualified_type.rsplit("$", 1)[-1]


def parse_urn(urn: str) -> UrnParts:
    stack, project, qualified_type, name = urn.removeprefix(URN_PREFIX).split("::", 3)
    return UrnParts(stack, project, qualified_type, name)


def make_urn(stack: str, project: str, parent: str, type_token: str, name: str) -> str:
    """MockMonitor.make_urn, with the stack and project given."""
    qualified = f"{parse_urn(parent).type}${type_token}" if parent else type_token
    return URN_PREFIX + "::".join([stack, project, qualified, name])


def stack_urn(stack: str, project: str) -> str:
    """The stack resource's URN, as the SDK names it (`<project>-<stack>`)."""
    return make_urn(stack, project, "", STACK_TYPE, f"{project}-{stack}")


def collapsed(request: Any, urn: str) -> list[str]:
    """The aliases of a `RegisterResourceRequest` as URNs, in the order given (`collapseAliasToUrn`)."""
    own = parse_urn(urn)
    found: list[str] = [*request.aliasURNs]
    for alias in request.aliases:
        if alias.HasField("urn"):
            found.append(alias.urn)
            continue
        spec = alias.spec
        stack, project = spec.stack or own.stack, spec.project or own.project
        # No parent is the stack itself, as every top-level resource's parent is in a mock URN.
        parent = stack_urn(stack, project) if spec.noParent else (spec.parentUrn or request.parent)
        found.append(make_urn(stack, project, parent, spec.type or request.type, spec.name or request.name))
    return list(dict.fromkeys(found))


def inherited_child_alias(child_type: str, child_name: str, parent_name: str, parent_alias: str) -> str:
    """The engine's `inheritedChildAlias`: the child's URN under its parent's old URN."""
    old_parent = parse_urn(parent_alias)
    name = old_parent.name + child_name[len(parent_name) :] if child_name.startswith(parent_name) else child_name
    return make_urn(old_parent.stack, old_parent.project, parent_alias, child_type, name)


class Registered(Protocol):
    @property
    def urn(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def parent(self) -> str: ...
    @property
    def aliases(self) -> list[str]: ...


class AliasConflict(Exception):
    """Two new resources claim one old resource: the engine refuses the deployment."""


def match_olds(news: Iterable[Registered], olds: set[str]) -> dict[str, str]:
    """Per new URN (parents before children), the old URN it takes over: its own, else its first alias
    found in `olds` (`generateSteps`). New URNs without an old resource are left out."""
    matched: dict[str, str] = {}
    through_alias: dict[str, str] = {}
    claimed: dict[str, str] = {}
    news = list(news)
    registered = {new.urn for new in news}
    for new in news:
        candidates = [new.urn, *new.aliases]
        parent_alias = through_alias.get(new.parent)
        if parent_alias is not None:
            parent_name = parse_urn(new.parent).name
            candidates.append(inherited_child_alias(new.type, new.name, parent_name, parent_alias))
            for alias in new.aliases:
                aliased = parse_urn(alias)
                candidates.append(inherited_child_alias(aliased.type, aliased.name, parent_name, parent_alias))
        old = next((urn for urn in candidates if urn in olds), None)
        if old is None:
            continue
        if old != new.urn:
            if old in registered or old in claimed:
                raise AliasConflict(f"{new.urn} is aliased to {old}, which {claimed.get(old, old)} also is")
            claimed[old] = new.urn
            through_alias[new.urn] = old
        matched[new.urn] = old
    return matched
