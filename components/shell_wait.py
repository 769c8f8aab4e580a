"""Bounded waits in the commands pushed to the containers (pure rendering).

Every wait retries a probe until it succeeds, bounds each try, stops at a deadline and, when it
gives up, says what it waited for and how long, after the probe's last output: a first `pulumi up`
on a cluster that is still coming up waits, a cluster that never comes fails with a reason.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Wait:
    what: str
    """What is waited for, as the message completes it: "gave up after 300 s waiting for <what>"."""
    probe: str
    """One simple command (no pipes or lists: `timeout` runs it), already quoted for the shell."""
    timeout_seconds: int
    """No new try starts after this many seconds."""
    attempt_seconds: int
    """One try is killed after this many seconds."""
    pause_seconds: int = 5


def wait_until(wait: Wait) -> str:
    """A POSIX sh group command that exits 1 when the probe never succeeded before the deadline."""
    return (
        "{ wait_start=$(date +%s); wait_log=$(mktemp); "
        f'until timeout {int(wait.attempt_seconds)} {wait.probe} >"$wait_log" 2>&1; do '
        f"if [ $(($(date +%s) - wait_start)) -ge {int(wait.timeout_seconds)} ]; then "
        'cat "$wait_log" >&2; '
        "printf 'gave up after %s s waiting for %s\\n' \"$(($(date +%s) - wait_start))\" "
        f"{shlex.quote(wait.what)} >&2; "
        'rm -f "$wait_log"; exit 1; fi; '
        f"sleep {int(wait.pause_seconds)}; done; "
        'rm -f "$wait_log"; }'
    )
