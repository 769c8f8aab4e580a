"""What a change set does to the running lab, beyond Pulumi's steps (DESIGN §3, day 2, round two)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from diff.engine import Change
from plan.run import PlanResult


class HazardKind(Enum):
    DESTROYS = "destroys"
    """Data or membership is lost: a wiped disk, an etcd member, a volume."""
    INTERRUPTS = "interrupts"
    """Something is down for a while: a reboot, DHCP, DNS, the site, the API."""
    NEEDS_YOU = "needs-you"
    """A step the program cannot take: on the laptop, in Proxmox, in the stack file."""


@dataclass(frozen=True)
class Hazard:
    kind: HazardKind
    subject: str
    why: str

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "subject": self.subject, "why": self.why}


def hazards(old: PlanResult, new: PlanResult, changes: list[Change]) -> list[Hazard]:
    return []
