"""The JSON schema of a stack file, from the models (`model_json_schema(by_alias=True)`).

Editors validate and complete a stack file with it (yaml-language-server's
`# yaml-language-server: $schema=...` comment); the configuration reference is
rendered from it. `config/stack.schema.json` is this schema, committed; a test
keeps it in step (`homelab schema > config/stack.schema.json` rewrites it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from config.models import LabConfig

NAMESPACE = "homelab"
SCHEMA_FILE = Path(__file__).with_name("stack.schema.json")
DIALECT = "https://json-schema.org/draft/2020-12/schema"


class _KeysAreTitles(GenerateJsonSchema):
    """No titles made up from field names ("Upstreamdns"): a key is its own title; types keep theirs."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def lab_schema() -> dict[str, Any]:
    """The schema of the `homelab:` keys, namespace stripped (as `LabConfig` takes them)."""
    return LabConfig.model_json_schema(by_alias=True, schema_generator=_KeysAreTitles)


def stack_file_schema() -> dict[str, Any]:
    """A whole `Pulumi.<stack>.yaml`: `homelab:<key>` under `config:`, other namespaces left alone."""
    lab = lab_schema()
    keys = list(lab["properties"])
    properties = {f"{NAMESPACE}:{key}": value for key, value in lab["properties"].items()}
    return {
        "$schema": DIALECT,
        "title": "homelab stack file",
        "description": "A Pulumi stack file (Pulumi.<stack>.yaml) of the homelab program. " + lab["description"],
        "type": "object",
        "required": ["config"],
        "properties": {
            "config": {
                "type": "object",
                "description": "Stack settings: `homelab:` keys for this program; other namespaces are ignored.",
                "properties": properties,
                "required": [f"{NAMESPACE}:{key}" for key in lab["required"]],
                # Any other `homelab:` key is a typo; keys of other namespaces may hold anything.
                "patternProperties": {f"^{NAMESPACE}:(?!({'|'.join(keys)})$)": False},
            }
        },
        "$defs": lab["$defs"],
    }


def schema_text() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=False, ensure_ascii=False) + "\n"
