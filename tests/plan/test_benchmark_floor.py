"""The benchmark's floor imports every provider SDK module a plan imports, typed Kubernetes modules included.

Otherwise the floor is cheaper than any program that creates these resources, and the
plan looks slow by the SDK's own import time (or fast code looks necessary).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.floor import floor_code
from tests.support import REPO

PROVIDER_SDKS = ("pulumi_proxmoxve", "pulumiverse_talos", "pulumi_kubernetes", "pulumi_command", "pulumi_tls")
# Modules that ran: an SDK package registers its submodules lazily, and one it never reads is no cost.
PRINT_MODULES = "import sys; print('\\n'.join(n for n, m in sys.modules.items() if type(m).__name__ != '_LazyModule'))"
PLAN_MODULES = f"from cli.main import main; main(['plan', '--stack', 'dev']); {PRINT_MODULES}"


def _provider_modules(*code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", "; ".join(code)], cwd=REPO, capture_output=True, text=True, timeout=300, check=True
    )
    return {name for name in result.stdout.splitlines() if name.split(".")[0] in PROVIDER_SDKS}


@pytest.fixture(scope="module")
def floor() -> set[str]:
    return _provider_modules(floor_code(), PRINT_MODULES)


def test_the_floor_imports_every_provider_module_the_plan_imports(floor: set[str]) -> None:
    planned = _provider_modules(PLAN_MODULES)
    assert {name.split(".")[0] for name in planned} == set(PROVIDER_SDKS)
    assert planned - floor == set()


def test_the_floor_includes_the_typed_kubernetes_modules(floor: set[str]) -> None:
    typed = {"core.v1", "apps.v1", "networking.v1", "helm.v3", "apiextensions", "meta.v1"}
    assert {f"pulumi_kubernetes.{name}" for name in typed} <= floor
