"""Pausing Python's cyclic garbage collector while a plan is built."""

from __future__ import annotations

import gc
from collections.abc import Generator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Generator[None, None, None]:
    """Turn the cyclic collector off for the block, then back on if it was on.

    Importing the SDKs and running the program allocate objects (modules, classes, the
    outputs, tasks and futures of every resource) that all live until the plan is
    written: the collector would only re-scan them, about a tenth of a 60-worker plan's
    time. Reference counting still frees everything else.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
