"""The lab MTU in the Talos machine config: a LinkConfig on the lab link (the alias bound to the NIC's MAC),
DHCP kept on it, valid against the Talos 1.13 config schema; nothing where the MTU is Ethernet's 1500."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from components.talos.patches import LAB_LINK_ALIAS, node_patches
from config.guests import Role, talos_nodes
from config.loading import load_stack_file
from tests.support import VALID, require_schema, stack_config
from tests.talos.test_talos_patches import IMAGE, TALOS_SCHEMA

VXLAN = load_stack_file(VALID / "vxlan-two-hosts.yaml")
Document = dict[str, Any]


@pytest.fixture(scope="module")
def talos_schema() -> Document:
    return json.loads(require_schema(TALOS_SCHEMA).read_text(encoding="utf-8"))


def _errors(schema: Document, document: Document) -> list[str]:
    """Against the whole schema and against the definition of the document's kind (its errors name the field)."""
    kind = document["kind"]
    (definition,) = [
        n for n, d in schema["$defs"].items() if d.get("properties", {}).get("kind", {}).get("enum") == [kind]
    ]
    errors = [*Draft202012Validator(schema).iter_errors(document)]
    errors += Draft202012Validator({"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}).iter_errors(document)
    return sorted(f"{'.'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors)


def _documents(config: Any, name: str) -> list[Document]:
    node = next(n for n in talos_nodes(config) if n.name == name)
    return [yaml.safe_load(patch) for patch in node_patches(config, node, IMAGE)]


def _kinds(documents: list[Document]) -> dict[str, Document]:
    return {str(d.get("kind", "v1alpha1")): d for d in documents}


@pytest.mark.parametrize("name", [n.name for n in talos_nodes(VXLAN)])
def test_each_node_gets_the_vxlan_mtu_on_its_lab_link(name: str) -> None:
    node = next(n for n in talos_nodes(VXLAN) if n.name == name)
    kinds = _kinds(_documents(VXLAN, name))
    assert kinds["LinkAliasConfig"]["name"] == LAB_LINK_ALIAS
    assert kinds["LinkAliasConfig"]["selector"] == {"match": f'mac(link.permanent_addr) == "{node.mac.lower()}"'}
    assert kinds["LinkConfig"] == {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": LAB_LINK_ALIAS, "mtu": 1450}
    assert kinds["DHCPv4Config"] == {"apiVersion": "v1alpha1", "kind": "DHCPv4Config", "name": LAB_LINK_ALIAS}


@pytest.mark.schemas
@pytest.mark.parametrize("name", [n.name for n in talos_nodes(VXLAN)])
def test_the_mtu_documents_validate_against_the_talos_schema(talos_schema: Document, name: str) -> None:
    for document in _documents(VXLAN, name):
        if "kind" in document:  # the v1alpha1 one: tests/talos/test_talos_patches.py
            assert _errors(talos_schema, document) == [], document


@pytest.mark.schemas
def test_the_schema_check_refuses_a_link_mtu_of_the_wrong_type(talos_schema: Document) -> None:
    assert _errors(talos_schema, {"apiVersion": "v1alpha1", "kind": "LinkConfig", "name": "lab0", "mtu": "1450"})


@pytest.mark.parametrize("stack", ["dev", "ha"])
def test_no_link_documents_at_ethernet_mtu(stack: str) -> None:
    config = stack_config(stack)
    for node in talos_nodes(config):
        kinds = _kinds(_documents(config, node.name))
        assert "LinkConfig" not in kinds and "DHCPv4Config" not in kinds
        # The alias stays only where the VIP needs it.
        assert ("LinkAliasConfig" in kinds) == (node.role is Role.CONTROL_PLANE and config.cluster.vip is not None)
