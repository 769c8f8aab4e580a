"""Two stacks compared as `pulumi up` would see them: the change set, its hazards, the rollout's steps.

OLD is the running lab: its plan's outputs are what NEW's program reads as the last `up` (its
inventory), exactly as `pulumi up` reads them from the stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from cli.exit_codes import ExitCode
from config.day2 import Destruction, review
from config.inventory import lab_inventory
from config.messages import Problem
from config.models import LabConfig
from diff.engine import Change, diff_plans
from diff.hazards import Hazard, HazardKind, hazards
from diff.rollout_steps import planned_rollout_steps
from plan.run import PlanResult, run_plan


class Refused(Exception):
    """NEW cannot be applied to the running lab OLD at all (a downgrade, a smaller disk, ...)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class StackDiff:
    changes: list[Change]
    hazards: list[Hazard]
    rollout: list[str]
    """The upgrade steps the cluster's rollout command will take (empty: it does not run)."""

    def exit_code(self) -> ExitCode:
        if any(hazard.kind is HazardKind.DESTROYS for hazard in self.hazards):
            return ExitCode.DESTROYS
        return ExitCode.CHANGES if self.changes or self.hazards else ExitCode.OK


def compare_plans(
    old: PlanResult, new: PlanResult, destroyed: list[Destruction] | None = None, allowed: list[str] | None = None
) -> StackDiff:
    changes = diff_plans(old, new)
    return StackDiff(
        changes=changes,
        hazards=hazards(old, new, changes, destroyed or [], new.config.allow_destroy if allowed is None else allowed),
        rollout=planned_rollout_steps(old, new),
    )


def plan_change(old: LabConfig, new: LabConfig, stack: str, old_plan: PlanResult | None = None) -> StackDiff:
    """NEW planned as the next `up` of the running lab OLD; raises Refused for what `up` never does."""
    old_plan = old_plan or run_plan(old, stack)
    verdict = review(lab_inventory(old), new)
    if verdict.refused:
        raise Refused(verdict.refused)
    # Planned as `up` runs once the stack allows what it destroys; the hazards name what it does not allow yet.
    allowing = new.model_copy(
        update={"allow_destroy": sorted({*new.allow_destroy, *(item.guest for item in verdict.destroys)})}
    )
    new_plan = run_plan(allowing, stack, previous=old_plan.outputs)
    return compare_plans(old_plan, new_plan, verdict.destroys, new.allow_destroy)


def compare_stacks(old: LabConfig, new: LabConfig, stack: str) -> StackDiff:
    return plan_change(old, new, stack)
