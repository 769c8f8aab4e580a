"""Writing a plan's files (DESIGN §6). Same input, same bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from components.talos.patches import patches_document
from plan.graph import mermaid
from plan.registered import helm_values, kubernetes_manifests, router_files, talos_patches
from plan.run import PlanResult


def plan_files(result: PlanResult) -> dict[str, str]:
    """Every file of the plan, by relative path."""
    files = {
        "resources.json": _json([r.as_json() for r in result.registrations]),
        "graph.mmd": mermaid(result.registrations),
    }
    files |= {f"router/{name}": text for name, text in router_files(result.registrations).items()}
    for node, patches in talos_patches(result.invokes).items():
        files[f"talos/{node}.yaml"] = patches_document(patches)
    for release, values in helm_values(result.registrations).items():
        files[f"helm/{release}.values.yaml"] = _yaml(values)
    for manifest in kubernetes_manifests(result.registrations):
        files[f"kubernetes/{manifest['kind'].lower()}-{manifest['metadata']['name']}.yaml"] = _yaml(manifest)
    return dict(sorted(files.items()))


# What a plan writes at the top of its folder: a file of an earlier plan here is removed.
PLAN_ENTRIES = ("resources.json", "graph.mmd", "router", "talos", "helm", "kubernetes")


def write_plan(result: PlanResult, out: Path) -> list[Path]:
    """Write the plan's files into `out`, and remove what an earlier plan wrote there and this one does not."""
    files = plan_files(result)
    for stale in _earlier_files(out) - {out / relative for relative in files}:
        stale.unlink()
    written = []
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _earlier_files(out: Path) -> set[Path]:
    found: set[Path] = set()
    for entry in (out / name for name in PLAN_ENTRIES):
        if entry.is_dir():
            found |= {path for path in entry.rglob("*") if path.is_file()}
        elif entry.is_file():
            found.add(entry)
    return found


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False)
