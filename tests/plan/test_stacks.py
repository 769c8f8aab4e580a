"""Stacks by name from wherever the user is, `./dev` paths from the caller's folder, and `homelab init`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cli.main import main
from cli.stacks import new_stack_text
from tests.support import REPO, file_tree, run_homelab


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder of the user's own: the project file, the example stack and one more stack."""
    folder = tmp_path / "mylab"
    folder.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        shutil.copy(REPO / name, folder / name)
    shutil.copy(REPO / "Pulumi.dev.yaml", folder / "Pulumi.lab2.yaml")
    return folder


def test_an_unknown_stack_names_the_stacks_there_are(project: Path) -> None:
    result = run_homelab("plan", "--stack", "prod", cwd=project)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"homelab plan: no stack prod: {project / 'Pulumi.prod.yaml'} does not exist (stacks in {project}: dev, lab2)"
    ]


@pytest.mark.parametrize("argv", [["plan", "--stack", "prod"], ["diff", "prod", "dev"], ["diff", "dev", "prod"]])
def test_every_command_words_an_unknown_stack_the_same(
    argv: list[str], project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project)
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"homelab {argv[0]}: no stack prod: {project / 'Pulumi.prod.yaml'} does not exist "
        f"(stacks in {project}: dev, lab2)"
    ]


def test_a_stack_file_name_is_read_as_its_stack(project: Path) -> None:
    result = run_homelab("plan", "--stack", "Pulumi.lab2.yaml", cwd=project / "..")
    assert result.returncode == 2, "from outside the project, its stacks are not there"
    result = run_homelab("plan", "--stack", "Pulumi.lab2.yaml", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("homelab plan: stack lab2: ")


def test_a_path_given_as_stack_points_to_config_file(project: Path) -> None:
    result = run_homelab("check", "--stack", "stacks/Pulumi.lab2.yaml", cwd=project)
    assert result.returncode == 2
    assert "for a file use --config-file stacks/Pulumi.lab2.yaml" in result.stderr


def _dev(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([REPO / "dev", *args], cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def test_dev_reads_and_writes_paths_from_the_callers_folder(tmp_path: Path) -> None:
    shutil.copy(REPO / "Pulumi.dev.yaml", tmp_path / "my-stack.yaml")
    result = _dev("plan", "--config-file", "my-stack.yaml", "--out", "plan-out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("homelab plan: stack my-stack: ")
    assert (tmp_path / "plan-out" / "resources.json").is_file()
    assert f"to {tmp_path / 'plan-out'}: " in result.stderr


def test_dev_plans_the_example_stack_from_any_folder(tmp_path: Path) -> None:
    result = _dev("plan", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("homelab plan: stack dev: ")
    assert not list(tmp_path.iterdir())


def test_init_starts_a_stack_from_the_example_and_never_overwrites(project: Path) -> None:
    result = run_homelab("init", "home", cwd=project)
    assert result.returncode == 0, result.stderr
    created = project / "Pulumi.home.yaml"
    assert created.read_text() == new_stack_text((REPO / "Pulumi.dev.yaml").read_text())
    assert "./dev plan --stack home" in result.stdout
    assert run_homelab("plan", "--stack", "home", cwd=project).returncode == 0

    created.write_text("# my edits\n")
    before = file_tree(project)
    again = run_homelab("init", "home", cwd=project)
    assert (again.returncode, again.stderr.count("\n")) == (2, 1)
    assert "already exists" in again.stderr
    assert file_tree(project) == before


def test_init_refuses_a_name_pulumi_would_refuse(project: Path) -> None:
    result = run_homelab("init", "my lab", cwd=project)
    assert result.returncode == 2
    assert "is not a stack name" in result.stderr


def test_a_new_stack_gets_no_secret_and_no_salt_of_the_example() -> None:
    example = (
        "encryptionsalt: v1:abc\n"
        "config:\n"
        "  proxmoxve:apiToken:\n"
        "    secure: AAAB\n"
        "  proxmoxve:password: {secure: AAAC}\n"
        "  homelab:site: {host: www.example.com, replicas: 2}\n"
    )
    assert new_stack_text(example) == "config:\n  homelab:site: {host: www.example.com, replicas: 2}\n"
