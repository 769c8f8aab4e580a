"""Writing a plan's files (DESIGN §6). Same input, same bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from components.talos.patches import patches_document
from plan.graph import plan_graph
from plan.registered import client_files, helm_values, kubernetes_manifests, router_files, talos_patches
from plan.run import PlanResult


def plan_files(result: PlanResult) -> dict[str, str]:
    """Every file of the plan, by relative path."""
    files = {
        "resources.json": _json([r.as_json() for r in result.registrations]),
        "graph.mmd": plan_graph(result),
    }
    files |= {f"router/{name}": text for name, text in router_files(result.registrations).items()}
    files |= {f"client/{name}": text for name, text in client_files(result.registrations).items()}
    for node, patches in talos_patches(result.invokes).items():
        files[f"talos/{node}.yaml"] = patches_document(patches)
    for release, values in helm_values(result.registrations).items():
        files[f"helm/{release}.values.yaml"] = _yaml(values)
    for manifest in kubernetes_manifests(result.registrations):
        files[f"kubernetes/{manifest['kind'].lower()}-{manifest['metadata']['name']}.yaml"] = _yaml(manifest)
    return dict(sorted(files.items()))


def write_plan(result: PlanResult, out: Path) -> list[Path]:
    """Write the plan's files into `out`.

    What an earlier plan left there is removed before, by `plan.out_dir` (only the files that
    plan listed, so a user's own files are never touched).
    """
    written = []
    for relative, text in plan_files(result).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False)
