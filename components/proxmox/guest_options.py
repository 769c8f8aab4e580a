"""What every Proxmox guest of the lab (container or VM) gets, whatever it runs."""

from __future__ import annotations

import pulumi


def guest_tags(*tags: str) -> list[str]:
    """Sorted and unique, as Proxmox stores them: any other list shows a change on every run."""
    return sorted(set(tags))


def guest_options(opts: pulumi.ResourceOptions) -> pulumi.ResourceOptions:
    """Guests have fixed VM ids: a replacement must delete the old guest first, or Proxmox answers
    that the id already exists (the Pulumi bridge sets no delete-before-replace of its own)."""
    return pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True))


def renamed_from(former: str, current: str) -> list[pulumi.Alias]:
    """The name earlier versions registered a resource under, as an alias: their stacks keep the resource.

    Children named `<parent>-<what>` inherit it (the engine's inheritedChildAlias,
    pulumi/pulumi pkg/resource/deploy/step_generator.go).
    """
    return [] if former == current else [pulumi.Alias(name=former)]
