"""Shared fixtures: stacks by name and their plans (run once per session)."""

from __future__ import annotations

import functools
from pathlib import Path

from config.loading import load_stack_file
from config.models import LabConfig
from plan.run import PlanResult, run_plan

REPO = Path(__file__).resolve().parent.parent
VALID = REPO / "tests" / "fixtures" / "valid"
STACKS = {
    "example": REPO / "Pulumi.dev.yaml",
    "ha": VALID / "ha-two-hosts.yaml",
    "minimal": VALID / "minimal.yaml",
}


@functools.cache
def stack_config(name: str) -> LabConfig:
    return load_stack_file(STACKS[name])


@functools.cache
def stack_plan(name: str) -> PlanResult:
    return run_plan(stack_config(name), name)
