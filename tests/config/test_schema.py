"""The JSON schema of a stack file (config/stack.schema.json, `homelab schema`): in step with the
models, accepting every valid stack and refusing what an editor can tell is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from cli.main import main
from config.schema import SCHEMA_FILE, schema_text, stack_file_schema
from config.yaml_reader import read_yaml
from tests.support import INVALID, REPO, VALID

VALID_STACKS = [REPO / "Pulumi.dev.yaml", *sorted(VALID.glob("*.yaml"))]
# Mistakes the schema alone can see (the rest need the rules across keys or the types' code).
SCHEMA_CATCHES = [
    "types-and-nulls/unknown-top-level-key",
    "types-and-nulls/unknown-guest-key",
    "types-and-nulls/missing-section",
    "types-and-nulls/missing-required-key",
    "types-and-nulls/replicas-quoted-number",
    "types-and-nulls/site-is-a-list",
    "numbers-and-bounds/vm-id-too-small",
    "numbers-and-bounds/too-many-workers",
    "numbers-and-bounds/no-proxmox-hosts",
    "proxmox-identifiers/bridge-name-too-long",
    "proxmox-identifiers/storage-id-with-space",
    "macs/mac-with-dashes",
    "names-and-hosts/guest-name-uppercase",
]


def _document(path: Path) -> Any:
    return read_yaml(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_committed_schema_is_the_models_schema() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "config/stack.schema.json is stale: run `homelab schema > config/stack.schema.json`"
    )


def test_homelab_schema_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == stack_file_schema()


@pytest.mark.parametrize("path", VALID_STACKS, ids=lambda path: path.stem)
def test_every_valid_stack_satisfies_the_schema(validator: Draft202012Validator, path: Path) -> None:
    errors = [error.message for error in validator.iter_errors(_document(path))]
    assert errors == []


@pytest.mark.parametrize("name", SCHEMA_CATCHES)
def test_schema_refuses_what_an_editor_can_see(validator: Draft202012Validator, name: str) -> None:
    assert not validator.is_valid(_document(INVALID / f"{name}.yaml"))


def test_schema_describes_keys_and_types() -> None:
    schema = stack_file_schema()
    config = schema["properties"]["config"]
    assert config["required"] == [
        "homelab:proxmox",
        "homelab:network",
        "homelab:cluster",
        "homelab:client",
        "homelab:loadBalancer",
    ]
    network = schema["$defs"]["NetworkConfig"]["properties"]
    assert network["cidr"]["title"] == "IPv4 CIDR"
    assert network["cidr"]["description"].startswith("Lab subnet on the bridge")
    assert schema["$defs"]["GuestConfig"]["properties"]["vmId"]["maximum"] == 999_999_999
    assert "Upstreamdns" not in json.dumps(schema), "no titles made up from field names"


def test_schema_leaves_other_namespaces_alone(validator: Draft202012Validator) -> None:
    document = _document(REPO / "Pulumi.dev.yaml")
    document["config"]["other:anything"] = [1, {"nested": None}]
    assert validator.is_valid(document)
    document["config"]["homelab:typo"] = {}
    assert not validator.is_valid(document)
