"""What the last `pulumi up` recorded about each guest, and the changes of identity Proxmox cannot make.

A guest's Pulumi identity is its key (`Guest.key`): a new display name is an update. Two changes
still need the user, and only the previous inventory (the stack's `guests` output) shows them:
- a Talos node's new VM id is a new guest to Proxmox: it would be created while the old VM runs
  with the same MAC and address (the apply, the DHCP reservation and the leave of the old one
  would reach either), then the old one deleted;
- a new MAC (a derived MAC follows the name): the router keeps the address leased to the old
  MAC until that lease runs out, so the guest gets no address meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config.guests import Guest


@dataclass(frozen=True)
class RecordedGuest:
    """One guest as the last `pulumi up` exported it."""

    name: str
    key: str
    vm_id: int
    address: str
    mac: str


def guests_output(guests: list[Guest]) -> dict[str, dict[str, Any]]:
    """The `guests` stack output: by display name, each guest's key, VM id, address and MAC."""
    return {
        guest.name: {"key": guest.key, "vmId": guest.vm_id, "address": str(guest.address), "mac": guest.mac}
        for guest in guests
    }


def recorded_guests(output: Mapping[str, Any]) -> list[RecordedGuest]:
    """The `guests` output read back (integers may come back as floats)."""
    return [
        RecordedGuest(
            name=name,
            key=str(entry["key"]),
            vm_id=int(entry["vmId"]),
            address=str(entry["address"]),
            mac=str(entry["mac"]).upper(),
        )
        for name, entry in output.items()
    ]


def identity_problems(previous: list[RecordedGuest], guests: list[Guest]) -> list[str]:
    """One line per guest whose change Proxmox cannot make in place, saying what to do instead."""
    by_key = {guest.key: guest for guest in previous}
    current_keys = {guest.key for guest in guests}
    gone = [guest for guest in previous if guest.key not in current_keys]
    problems: list[str] = []
    for guest in guests:
        before = by_key.get(guest.key)
        if before is None:
            problems += [_new_vm_id(guest, old) for old in gone if _same_nic(old, guest)]
        elif before.mac != guest.mac.upper():
            problems.append(
                f"{guest.config_path}: the NIC's MAC changes from {before.mac} to {guest.mac} (a derived MAC "
                f"follows the name), and the router keeps {guest.address} leased to {before.mac} until that "
                f"lease runs out: set `mac: {before.mac}` on it to keep it"
            )
    return problems


def _same_nic(old: RecordedGuest, guest: Guest) -> bool:
    return old.address == str(guest.address) or old.mac == guest.mac.upper()


def _new_vm_id(guest: Guest, old: RecordedGuest) -> str:
    return (
        f"{guest.config_path}.vmId: {guest.vm_id} is a new guest to Proxmox, created while VM {old.vm_id} "
        f"({old.name}) still runs with the same address or MAC, and VM {old.vm_id} deleted after: remove "
        f"{old.name} in one `pulumi up`, then add it back with VM id {guest.vm_id} in the next"
    )
