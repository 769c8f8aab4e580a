"""Running the real program under Pulumi's mocks and collecting what it registered."""

from __future__ import annotations

import asyncio
import heapq
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.runtime.settings import SETTINGS
from pulumi.runtime.stack import run_pulumi_func

# The same entry point `pulumi.runtime.mocks.test` uses; the SDK exposes no public one.
from pulumi.runtime.sync_await import _sync_await  # pyright: ignore[reportPrivateUsage]

from config.models import LabConfig
from plan.mocks import LabMocks
from plan.monitor import InvokeRecord, RecordingMonitor, Registration
from plan.redaction import SECRET, redact

PROJECT = "homelab"
# What a DIY (local or object-store) backend calls every organization.
ORGANIZATION = "organization"


@dataclass(frozen=True)
class PlanResult:
    config: LabConfig
    stack: str
    registrations: list[Registration]
    invokes: list[InvokeRecord]
    outputs: dict[str, Any]
    secret_outputs: list[str]
    # Text the mocks invented where a provider computes a value (certificates, keys, configs).
    made_up: frozenset[str] = frozenset()

    def by_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_token]


def run_plan(config: LabConfig, stack: str = "dev", previous: dict[str, Any] | None = None) -> PlanResult:
    """`previous`: the stack outputs of the last `up` (the running lab), as the program reads them from
    its own stack; None for a stack never deployed."""
    from components.lab import build, stack_outputs

    mocks = LabMocks(previous)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=stack, preview=False, monitor=monitor, organization=ORGANIZATION
    )
    exported: dict[str, Any] = {}

    async def program() -> None:
        exported.update(stack_outputs(build(config)))
        await _settle()

    try:
        _sync_await(run_pulumi_func(program))
    except pulumi.RunError as error:
        # `pulumi up` would end here; in this process the next plan must not inherit the failed one's tasks.
        _sync_await(_drain())
        raise ProgramError(str(error)) from None
    outputs, secret_outputs = _resolve(exported)
    return PlanResult(
        config=config,
        stack=stack,
        registrations=ordered(monitor.registrations),
        invokes=sorted(monitor.invokes, key=lambda r: (r.token, repr(r.args))),
        outputs=outputs,
        secret_outputs=secret_outputs,
        made_up=frozenset(mocks.made_up),
    )


class ProgramError(Exception):
    """The program stopped itself (e.g. the day-2 guard refused the change): its message, one line per reason."""


async def _drain() -> None:
    """Let every output of a failed program finish, and take their failures, so none is left pending."""
    while pending := [task for task in _tracked_outputs() if not task.done()]:
        await asyncio.wait(pending)
    for task in _tracked_outputs():
        if not task.cancelled():
            task.exception()
    _tracked_outputs().clear()


async def _settle() -> None:
    """Wait until every output the program created has resolved, in a time linear in their number.

    The SDK's own final wait (`wait_for_rpcs`) waits for the first of all pending outputs
    to finish, then again for the rest: quadratic, most of a plan's run time. Waiting for
    all of them at once leaves it nothing to wait for; it still re-raises any failure.
    """
    while pending := [task for task in _tracked_outputs() if not task.done()]:
        await asyncio.wait(pending)


def _tracked_outputs() -> set[asyncio.Task[Any]]:
    """The tasks of the outputs the SDK tracks until they resolve (what its final wait waits for)."""
    # A context-variable property the type checker cannot see through.
    outputs: set[asyncio.Task[Any]] = SETTINGS.outputs  # pyright: ignore[reportAttributeAccessIssue]
    return outputs


def _resolve(exported: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    values: dict[str, Any] = {}
    secrets: list[str] = []
    for name, value in exported.items():
        output = pulumi.Output.from_input(value)
        if _sync_await(output.is_secret()):
            values[name] = SECRET
            secrets.append(name)
        else:
            values[name], _ = redact(_sync_await(output.future()))
    return values, secrets


def ordered(registrations: dict[str, Registration]) -> list[Registration]:
    """Topological order (parents, providers and dependencies first), ties by URN: stable across runs.

    A component is listed just before its first child, where its work starts.
    """
    return _components_before_first_child(_topological(registrations), registrations)


def _components_before_first_child(
    in_order: list[Registration], registrations: dict[str, Registration]
) -> list[Registration]:
    parents = {r.parent for r in in_order}
    emitted: set[str] = set()
    result: list[Registration] = []

    def emit(registration: Registration) -> None:
        if registration.urn in emitted:
            return
        if registration.parent in registrations:
            emit(registrations[registration.parent])
        emitted.add(registration.urn)
        result.append(registration)

    for registration in in_order:
        if registration.urn not in parents:  # components wait for their first child
            emit(registration)
    for registration in in_order:  # components without children keep their place at the end
        emit(registration)
    return result


def _topological(registrations: dict[str, Registration]) -> list[Registration]:
    waiting_on = {
        urn: {d for d in (r.parent, r.provider, *r.dependencies) if d in registrations}
        for urn, r in registrations.items()
    }
    dependents: dict[str, list[str]] = {urn: [] for urn in registrations}
    for urn, needs in waiting_on.items():
        for need in needs:
            dependents[need].append(urn)
    ready = [urn for urn, needs in waiting_on.items() if not needs]
    heapq.heapify(ready)
    result: list[Registration] = []
    while ready:
        urn = heapq.heappop(ready)
        result.append(registrations[urn])
        for dependent in dependents[urn]:
            waiting_on[dependent].discard(urn)
            if not waiting_on[dependent]:
                heapq.heappush(ready, dependent)
    return result
