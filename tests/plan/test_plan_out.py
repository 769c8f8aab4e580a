"""`homelab plan --out DIR`: the folder holds exactly the latest plan, and nothing else is ever removed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from plan.out_dir import MANIFEST
from tests.support import STACKS, file_tree, run_homelab


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("planned") / "out"
    result = run_homelab("plan", "--stack", "dev", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


def _copy(planned: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(planned, out)
    return out


def test_plan_says_where_and_what_it_wrote(planned: Path, tmp_path: Path) -> None:
    out = _copy(planned, tmp_path)
    result = run_homelab("plan", "--stack", "dev", "--out", out)
    listed = (out / MANIFEST).read_text().splitlines()[1:]
    assert sorted(listed) == sorted(name for name in file_tree(out) if name != MANIFEST)
    assert f"wrote {len(listed)} files to {out.resolve()}: " in result.stderr
    assert "talos/ (3)" in result.stderr


def test_a_smaller_plan_leaves_nothing_of_the_earlier_one(planned: Path, tmp_path: Path) -> None:
    out = _copy(planned, tmp_path)
    (out / "notes.txt").write_text("mine")  # not the plan's: must survive
    result = run_homelab("plan", "--config-file", STACKS["minimal"], "--out", out)
    assert result.returncode == 0, result.stderr
    fresh = tmp_path / "fresh"
    assert run_homelab("plan", "--config-file", STACKS["minimal"], "--out", fresh).returncode == 0
    assert file_tree(out) == {**file_tree(fresh), "notes.txt": b"mine"}
    assert "removed " in result.stderr


def test_a_folder_that_holds_no_plan_is_refused_untouched(tmp_path: Path) -> None:
    out = tmp_path / "photos"
    out.mkdir()
    (out / "resources.json").write_text("not a plan of ours")
    result = run_homelab("plan", "--stack", "dev", "--out", out)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert f"cannot write the plan to {out}: it is not empty and holds no earlier plan" in result.stderr
    assert file_tree(out) == {"resources.json": b"not a plan of ours"}


def test_a_tampered_list_never_reaches_outside_the_folder(planned: Path, tmp_path: Path) -> None:
    out = _copy(planned, tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    with (out / MANIFEST).open("a") as manifest:
        manifest.write(f"../victim.txt\n{victim}\n")
    assert run_homelab("plan", "--stack", "dev", "--out", out).returncode == 0
    assert victim.read_text() == "keep"
