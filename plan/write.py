"""Writing a plan's files (DESIGN §6). Same input, same bytes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from components.router.files import render_router_files
from components.talos.patches import node_patches, patches_document
from config.guests import talos_nodes
from plan.graph import plan_graph
from plan.run import PlanResult

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
KUBERNETES_PREFIX = "kubernetes:"
_NOT_OBJECTS = (HELM_RELEASE, "pulumi:providers:kubernetes")
_DROPPED_INPUTS = {"__defaults"}


def plan_files(result: PlanResult) -> dict[str, str]:
    """Every file of the plan, by relative path."""
    files = {
        "resources.json": _json([r.as_json() for r in result.registrations]),
        "graph.mmd": plan_graph(result),
    }
    files |= {f"router/{name}": text for name, text in render_router_files(result.config).as_files().items()}
    installer = installer_image(result)
    for node in talos_nodes(result.config):
        files[f"talos/{node.name}.yaml"] = patches_document(node_patches(result.config, node, installer))
    for release in result.by_type(HELM_RELEASE):
        files[f"helm/{release.inputs['name']}.values.yaml"] = _yaml(release.inputs.get("values", {}))
    for registration in result.registrations:
        if registration.type.startswith(KUBERNETES_PREFIX) and registration.type not in _NOT_OBJECTS:
            manifest = kubernetes_manifest(registration.inputs)
            name = manifest["metadata"]["name"]
            files[f"kubernetes/{manifest['kind'].lower()}-{name}.yaml"] = _yaml(manifest)
    return dict(sorted(files.items()))


def write_plan(result: PlanResult, out: Path) -> list[Path]:
    written = []
    for relative, text in plan_files(result).items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def installer_image(result: PlanResult) -> str:
    """The installer image the image factory returned (mocked deterministically in a plan)."""
    urls = next(r.result for r in result.invokes if r.token == "talos:imageFactory/getUrls:getUrls")
    return str(urls["urls"]["installer"])


def kubernetes_manifest(inputs: dict[str, Any]) -> dict[str, Any]:
    """A registered Kubernetes object's inputs as the manifest the API server receives."""
    head = {"apiVersion": inputs["apiVersion"], "kind": inputs["kind"], "metadata": inputs["metadata"]}
    rest = {k: v for k, v in inputs.items() if k not in head and k not in _DROPPED_INPUTS}
    return head | rest


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, default_flow_style=False)
