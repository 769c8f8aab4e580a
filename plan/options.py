"""A resource's options as the engine receives them in its register request (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2
from pulumi.runtime import rpc

from plan.aliases import collapsed
from plan.redaction import redact

TIMEOUT_KINDS = ("create", "update", "delete")


@dataclass(frozen=True)
class RecordedOptions:
    delete_before_replace: bool = False
    replace_with: list[str] = field(default_factory=list[str])
    """URNs: replacing any of them replaces this resource."""
    replacement_trigger: Any = None
    """The trigger's value, secrets as "[secret]" and unknowns as "[unknown]"; None when there is none."""
    ignore_changes: list[str] = field(default_factory=list[str])
    replace_on_changes: list[str] = field(default_factory=list[str])
    custom_timeouts: dict[str, str] = field(default_factory=dict[str, str])
    protect: bool = False
    retain_on_delete: bool = False
    aliases: list[str] = field(default_factory=list[str])
    """URNs of old resources this one takes over, in the order the engine tries them (the ones a
    renamed parent implies are added by `homelab diff`, against the old plan: `plan.aliases`)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "deleteBeforeReplace": self.delete_before_replace,
            "replaceWith": self.replace_with,
            "replacementTrigger": self.replacement_trigger,
            "ignoreChanges": self.ignore_changes,
            "replaceOnChanges": self.replace_on_changes,
            "customTimeouts": self.custom_timeouts,
            "protect": self.protect,
            "retainOnDelete": self.retain_on_delete,
            "aliases": self.aliases,
        }


def recorded_options(request: Any, urn: str) -> RecordedOptions:
    """The options of a `RegisterResourceRequest` (lists sorted where their order means nothing to the
    engine; aliases in the order it tries them)."""
    timeouts = request.customTimeouts if request.HasField("customTimeouts") else None
    set_timeouts = {kind: getattr(timeouts, kind) for kind in TIMEOUT_KINDS if timeouts and getattr(timeouts, kind)}
    return RecordedOptions(
        delete_before_replace=bool(request.deleteBeforeReplace),
        replace_with=sorted(request.replace_with),
        replacement_trigger=_replacement_trigger(request),
        ignore_changes=sorted(request.ignoreChanges),
        replace_on_changes=sorted(request.replaceOnChanges),
        custom_timeouts=set_timeouts,
        protect=bool(request.protect),
        retain_on_delete=bool(request.retainOnDelete),
        aliases=collapsed(request, urn),
    )


def _replacement_trigger(request: Any) -> Any:
    if not request.HasField("replacement_trigger"):
        return None
    # A protobuf Value serialised like an input; the SDK deserialises values only inside a Struct.
    holder = struct_pb2.Struct()
    holder.fields["trigger"].CopyFrom(request.replacement_trigger)
    value, _ = redact(rpc.deserialize_properties(holder, keep_unknowns=True)["trigger"])
    return value
