"""Talos config patches: content per node, and validity against the Talos 1.13 config schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from components.talos.patches import LAB_LINK_ALIAS, cluster_endpoint, node_patches, patches_document
from config.guests import Guest, Role, client_guest, talos_nodes
from tests.support import REPO, require_schema, stack_config

DEV = REPO / "Pulumi.dev.yaml"
HA = REPO / "tests/fixtures/valid/ha-two-hosts.yaml"
MINIMAL = REPO / "tests/fixtures/valid/minimal.yaml"
IMAGE = "factory.talos.dev/installer/376567988ad370138ad8b2698212367b8edcb69b5fd68c80be1f2ec7d603b4ba:v1.13.9"
TALOS_SCHEMA = "talos-1.13.9.config.schema.json"

Document = dict[str, Any]


def _node(stack: str, name: str) -> Guest:
    return next(node for node in talos_nodes(stack_config(stack)) if node.name == name)


def _documents(stack: str, name: str) -> list[Document]:
    patches = node_patches(stack_config(stack), _node(stack, name), IMAGE)
    return [yaml.safe_load(patch) for patch in patches]


def _kind(documents: list[Document], kind: str) -> list[Document]:
    return [document for document in documents if document.get("kind") == kind]


def _v1alpha1(documents: list[Document]) -> Document:
    (document,) = [document for document in documents if "kind" not in document]
    return document


def _all_nodes(*stacks: str) -> list[tuple[str, str]]:
    return [(stack, node.name) for stack in stacks for node in talos_nodes(stack_config(stack))]


def _control_planes(stack: str) -> list[str]:
    return [node.name for node in talos_nodes(stack_config(stack)) if node.role is Role.CONTROL_PLANE]


def _workers(stack: str) -> list[str]:
    return [node.name for node in talos_nodes(stack_config(stack)) if node.role is Role.WORKER]


# --- schema ------------------------------------------------------------------


@pytest.fixture(scope="module")
def talos_schema() -> Document:
    path = require_schema(TALOS_SCHEMA)
    return json.loads(path.read_text(encoding="utf-8"))


def _definition_for(schema: Document, document: Document) -> str:
    """The `$defs` entry of the document's kind; a document without `kind` is the v1alpha1 one."""
    kind = document.get("kind")
    if kind is None:
        return "v1alpha1.Config"
    for name, definition in schema["$defs"].items():
        if definition.get("properties", {}).get("kind", {}).get("enum") == [kind]:
            return name
    raise AssertionError(f"the Talos schema has no document kind {kind!r}")


def _errors(schema: Document, document: Document) -> list[str]:
    # The whole schema (its top-level `oneOf` over document kinds), then the kind's
    # own definition, whose errors name the offending field instead of "not valid under oneOf".
    kind_schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{_definition_for(schema, document)}"}
    errors = [
        *Draft202012Validator(schema).iter_errors(document),
        *Draft202012Validator(kind_schema).iter_errors(document),
    ]
    return sorted(f"{'.'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}" for error in errors)


@pytest.mark.schemas
@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha", "minimal"))
def test_every_patch_validates_against_the_talos_schema(talos_schema: Document, stack: str, name: str) -> None:
    # v1alpha1 patches are partial documents. They are validated as they are,
    # without relaxing anything: the Talos 1.13.9 schema requires no field
    # anywhere under `v1alpha1.Config` (the generator fills them), while
    # `additionalProperties: false` still rejects any misspelled or removed field.
    for document in _documents(stack, name):
        assert _errors(talos_schema, document) == [], document


@pytest.mark.schemas
def test_the_schema_check_rejects_what_talos_1_13_dropped(talos_schema: Document) -> None:
    """Guards the validation itself: `machine.network.hostname` is gone from the 1.13 v1alpha1 document."""
    assert _errors(talos_schema, {"machine": {"network": {"hostname": "cp-1"}}})
    assert _errors(talos_schema, {"apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "link": "lab0"})


# --- content -----------------------------------------------------------------


@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha"))
def test_hostname_is_the_node_name_with_auto_hostname_off(stack: str, name: str) -> None:
    (hostname,) = _kind(_documents(stack, name), "HostnameConfig")
    assert hostname == {"apiVersion": "v1alpha1", "kind": "HostnameConfig", "hostname": name, "auto": "off"}


@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha"))
def test_install_disk_and_image_from_the_schematic(stack: str, name: str) -> None:
    machine = _v1alpha1(_documents(stack, name))["machine"]
    assert machine["install"] == {"disk": stack_config(stack).cluster.install_disk, "image": IMAGE}


@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha"))
def test_kubelet_node_ip_and_cluster_networks(stack: str, name: str) -> None:
    config = stack_config(stack)
    patch = _v1alpha1(_documents(stack, name))
    assert patch["machine"]["kubelet"]["nodeIP"]["validSubnets"] == [str(config.network.cidr)]
    assert patch["cluster"]["network"] == {
        "podSubnets": [str(config.cluster.pod_cidr)],
        "serviceSubnets": [str(config.cluster.service_cidr)],
    }


@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha"))
def test_the_router_is_the_nameserver(stack: str, name: str) -> None:
    (resolver,) = _kind(_documents(stack, name), "ResolverConfig")
    assert resolver["nameservers"] == [{"address": str(stack_config(stack).network.router.address)}]


def test_ha_endpoint_is_the_vip() -> None:
    assert cluster_endpoint(stack_config("ha")) == "https://10.77.0.10:6443"


@pytest.mark.parametrize("name", _control_planes("ha"))
def test_ha_control_planes_announce_the_vip_on_their_own_nic(name: str) -> None:
    documents = _documents("ha", name)
    (vip,) = _kind(documents, "Layer2VIPConfig")
    (alias,) = _kind(documents, "LinkAliasConfig")
    assert vip == {"apiVersion": "v1alpha1", "kind": "Layer2VIPConfig", "name": "10.77.0.10", "link": LAB_LINK_ALIAS}
    assert alias["name"] == LAB_LINK_ALIAS
    assert alias["selector"] == {"match": f'mac(link.permanent_addr) == "{_node("ha", name).mac.lower()}"'}


def test_a_pinned_mac_selects_the_vip_link() -> None:
    (alias,) = _kind(_documents("ha", "cp-2"), "LinkAliasConfig")
    assert alias["selector"]["match"] == 'mac(link.permanent_addr) == "02:00:00:77:00:12"'


@pytest.mark.parametrize("name", _control_planes("ha"))
def test_ha_control_planes_have_the_vip_in_their_cert_sans(name: str) -> None:
    patch = _v1alpha1(_documents("ha", name))
    assert "10.77.0.10" in patch["machine"]["certSANs"]
    assert "10.77.0.10" in patch["cluster"]["apiServer"]["certSANs"]
    assert patch["cluster"]["etcd"]["advertisedSubnets"] == ["10.77.0.0/24"]


@pytest.mark.parametrize(("stack", "name"), [*(("ha", name) for name in _workers("ha")), *_all_nodes("dev")])
def test_no_vip_or_alias_on_workers_or_a_single_control_plane(stack: str, name: str) -> None:
    documents = _documents(stack, name)
    assert _kind(documents, "Layer2VIPConfig") == []
    assert _kind(documents, "LinkAliasConfig") == []


@pytest.mark.parametrize("name", _workers("ha"))
def test_workers_carry_no_control_plane_settings(name: str) -> None:
    patch = _v1alpha1(_documents("ha", name))
    assert "certSANs" not in patch["machine"]
    assert set(patch["cluster"]) == {"network"}


def test_single_control_plane_endpoint_is_the_first_control_plane() -> None:
    config = stack_config("dev")
    assert cluster_endpoint(config) == "https://192.168.1.201:6443"
    patch = _v1alpha1(_documents("dev", "cp-1"))
    assert patch["machine"]["certSANs"] == ["192.168.1.201"]
    assert patch["cluster"]["apiServer"]["certSANs"] == ["192.168.1.201"]


@pytest.mark.parametrize(("stack", "allowed"), [("dev", False), ("ha", False), ("minimal", True)])
def test_control_planes_take_workloads_only_without_workers(stack: str, allowed: bool) -> None:
    for name in _control_planes(stack):
        assert _v1alpha1(_documents(stack, name))["cluster"]["allowSchedulingOnControlPlanes"] is allowed


@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha"))
def test_each_patch_is_one_document_and_the_file_holds_them_all(stack: str, name: str) -> None:
    patches = node_patches(stack_config(stack), _node(stack, name), IMAGE)
    assert all(len(list(yaml.safe_load_all(patch))) == 1 for patch in patches)
    assert list(yaml.safe_load_all(patches_document(patches))) == [yaml.safe_load(patch) for patch in patches]


@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha"))
def test_patches_are_plain_yaml_without_anchors(stack: str, name: str) -> None:
    patches = node_patches(stack_config(stack), _node(stack, name), IMAGE)
    events = [event for patch in patches for event in yaml.parse(patch)]
    assert not [event for event in events if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None)]


def test_patches_document_of_nothing_is_empty() -> None:
    assert patches_document([]) == ""


def test_the_client_is_not_a_talos_node() -> None:
    config = stack_config("dev")
    with pytest.raises(ValueError, match="not a Talos node"):
        node_patches(config, client_guest(config), IMAGE)


@pytest.mark.parametrize(("stack", "name"), _all_nodes("dev", "ha"))
def test_patches_are_what_the_pure_python_emitter_writes(stack: str, name: str) -> None:
    # The renderer uses libyaml where PyYAML has it: a machine without it must write the same bytes.
    for patch in node_patches(stack_config(stack), _node(stack, name), IMAGE):
        document = yaml.safe_load(patch)
        assert yaml.dump(document, Dumper=yaml.SafeDumper, sort_keys=False, default_flow_style=False) == patch
