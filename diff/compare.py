"""Two stacks compared as `pulumi up` would see them: the change set, its hazards, the rollout's steps."""

from __future__ import annotations

from dataclasses import dataclass

from cli.exit_codes import ExitCode
from config.models import LabConfig
from diff.engine import Change, diff_plans
from diff.hazards import Hazard, HazardKind, hazards
from diff.rollout_steps import planned_rollout_steps
from plan.run import PlanResult, run_plan


@dataclass(frozen=True)
class StackDiff:
    changes: list[Change]
    hazards: list[Hazard]
    rollout: list[str]
    """The upgrade steps the cluster's rollout command will take (empty: it does not run)."""

    def exit_code(self) -> ExitCode:
        if any(hazard.kind is HazardKind.DESTROYS for hazard in self.hazards):
            return ExitCode.DESTROYS
        return ExitCode.CHANGES if self.changes else ExitCode.OK


def compare_plans(old: PlanResult, new: PlanResult) -> StackDiff:
    changes = diff_plans(old, new)
    return StackDiff(changes=changes, hazards=hazards(old, new, changes), rollout=planned_rollout_steps(old, new))


def compare_stacks(old: LabConfig, new: LabConfig, stack: str) -> StackDiff:
    """OLD is the running lab: its plan's outputs are what NEW's program reads as the previous `up`."""
    old_plan = run_plan(old, stack)
    return compare_plans(old_plan, run_plan(new, stack, previous=old_plan.outputs))
