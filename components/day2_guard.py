"""The day-2 guard: the program refuses what the stack does not say it intends (DESIGN §3, round two).

It reads the inventory the last `pulumi up` exported, from this very stack (a StackReference to
itself: during an update the backend still holds the previous deployment's outputs), and reviews
the stack file against it (config.day2). A refusal fails the program before any guest is
registered: every guest's lab bridge waits for the review (components.lab), and the engine deletes
nothing when the program fails. `pulumi destroy` does not run the program, so it stays one command.
"""

from __future__ import annotations

from typing import Any

import pulumi

from config.day2 import refusal_lines, review
from config.inventory import InventoryError, inventory_from_output
from config.models import LabConfig

INVENTORY_OUTPUT = "inventory"


def previous_inventory() -> pulumi.Output[Any]:
    """This stack's `inventory` output of the last `up` (None before the first)."""
    own = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    return pulumi.StackReference(f"{pulumi.get_stack()}-previous", stack_name=own).get_output(INVENTORY_OUTPUT)


def reviewed(config: LabConfig, previous: pulumi.Output[Any]) -> pulumi.Output[None]:
    """Resolves when the change is allowed; fails the program with one line per refusal when not."""

    def check(value: Any) -> None:
        try:
            inventory = inventory_from_output(value)
        except InventoryError as error:
            raise pulumi.RunError(str(error)) from None
        if inventory is None:
            return
        lines = refusal_lines(review(inventory, config), config.allow_destroy)
        if lines:
            raise pulumi.RunError(
                "homelab refuses this change to the running lab:\n" + "\n".join(f"  {line}" for line in lines)
            )

    return previous.apply(check)
