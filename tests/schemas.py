"""Where the upstream schemas live (DESIGN §9), shared by the schema tests.

The schemas are published by the upstream projects and never copied into the
repo. A fresh clone without them skips these tests; CI must have them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def schemas_dir() -> Path:
    """`HOMELAB_SCHEMAS_DIR`, or `../shared/schemas` next to the checkout."""
    configured = os.environ.get("HOMELAB_SCHEMAS_DIR")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "schemas"


def require_schemas() -> Path:
    """The schemas folder; skips the test when it is absent (fails in CI)."""
    folder = schemas_dir()
    if folder.is_dir():
        return folder
    message = f"upstream schemas not found in {folder}: put the upstream schemas there or set HOMELAB_SCHEMAS_DIR"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
