"""`--out DIR`: a folder that holds exactly the latest plan.

A plan lists the files it wrote in `DIR/.homelab-plan`. The next plan into the same
folder removes those files (and only those) before writing, so nothing of an earlier
plan is left behind, and a folder holding anything else is never touched: a non-empty
folder without that list is refused.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".homelab-plan"
_HEADER = "# Files written by `homelab plan`; the next plan into this folder removes them first.\n"


class OutDirError(Exception):
    """The folder cannot take the plan; the message is one line."""


@dataclass(frozen=True)
class Written:
    folder: Path
    files: list[str]  # relative paths, as in the manifest
    removed: int  # files of the earlier plan that the new one no longer writes

    def describe(self) -> str:
        """`wrote 17 files to /abs/out: resources.json, graph.mmd, router/ (4), ...`."""
        groups = Counter(name.split("/")[0] + "/" if "/" in name else name for name in self.files)
        parts = [f"{name} ({count})" if name.endswith("/") else name for name, count in groups.items()]
        dropped = f"; removed {self.removed} file(s) of the earlier plan" if self.removed else ""
        return f"wrote {len(self.files)} files to {self.folder}: {', '.join(parts)}{dropped}"


def earlier_plan(folder: Path) -> list[str]:
    """The files an earlier plan wrote into `folder` (empty for a new or empty folder)."""
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise OutDirError("it is not a folder")
    manifest = folder / MANIFEST
    if manifest.is_file():
        lines = manifest.read_text(encoding="utf-8").splitlines()
        return [line for line in lines if line and not line.startswith("#") and _inside(folder, line)]
    if any(folder.iterdir()):
        raise OutDirError(f"it is not empty and holds no earlier plan (no {MANIFEST}): choose a new or empty folder")
    return []


def remove_earlier(folder: Path, files: list[str]) -> None:
    """Remove the listed files, then the folders they leave empty (never `folder` itself)."""
    parents: set[Path] = set()
    for name in files:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            path.unlink()
        parents.update(p for p in path.parents if p != folder and folder in p.parents)
    for parent in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):  # not empty: it holds something else
            parent.rmdir()


def record(folder: Path, written: list[Path], earlier: list[str]) -> Written:
    files = [path.relative_to(folder).as_posix() for path in written]
    (folder / MANIFEST).write_text(_HEADER + "".join(f"{name}\n" for name in files), encoding="utf-8")
    return Written(folder.resolve(), files, len(set(earlier) - set(files)))


def _inside(folder: Path, name: str) -> bool:
    """A relative path that stays inside the folder (a hand-edited list must not reach outside)."""
    path = Path(name)
    return not path.is_absolute() and ".." not in path.parts
