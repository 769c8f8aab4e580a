"""What the last `pulumi up` recorded about each guest, and the changes of identity Proxmox cannot make.

A guest's Pulumi identity is its key (`Guest.key`): a new display name is an update. Two changes
still need the user, and only the previous inventory (the stack's `inventory` output) shows them:
- a Talos node's new VM id is a new guest to Proxmox: it would be created while the old VM runs
  with the same MAC and address (the apply, the DHCP reservation and the leave of the old one
  would reach either), then the old one deleted;
- a new MAC (a derived MAC follows the name): the router keeps the address leased to the old
  MAC until that lease runs out, so the guest gets no address meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence

from config.guests import Guest
from config.inventory import GuestRecord
from config.messages import Problem


def identity_problems(previous: Sequence[GuestRecord], guests: list[Guest]) -> list[Problem]:
    """One line per guest whose change Proxmox cannot make in place, saying what to do instead."""
    by_key = {guest.key: guest for guest in previous}
    current_keys = {guest.key for guest in guests}
    gone = [guest for guest in previous if guest.key not in current_keys]
    problems: list[Problem] = []
    for guest in guests:
        before = by_key.get(guest.key)
        if before is None:
            problems += [_new_vm_id(guest, old) for old in gone if _same_nic(old, guest)]
        elif before.mac.upper() != guest.mac.upper():
            problems.append(
                Problem(
                    guest.config_path,
                    f"the NIC's MAC changes from {before.mac} to {guest.mac} (a derived MAC follows the name), and "
                    f"the router keeps {guest.address} leased to {before.mac} until that lease runs out: set "
                    f"`mac: {before.mac}` on it to keep it",
                )
            )
    return problems


def _same_nic(old: GuestRecord, guest: Guest) -> bool:
    return old.address == str(guest.address) or old.mac.upper() == guest.mac.upper()


def _new_vm_id(guest: Guest, old: GuestRecord) -> Problem:
    return Problem(
        f"{guest.config_path}.vmId",
        f"{guest.vm_id} is a new guest to Proxmox, created while VM {old.vm_id} ({old.name}) still runs with the "
        f"same address or MAC, and VM {old.vm_id} deleted after: remove {old.name} in one `pulumi up` "
        f"(allowDestroy), then add it back with VM id {guest.vm_id} in the next",
    )
