"""Storage: the Proxmox CSI plugin's release, its config Secret, the StorageClass, the Proxmox access it
calls the API with, and the example volume, in the ha stack (storage on) and the example (storage off).

The chart is rendered by `helm template` from `<shared>/charts/proxmox-csi-plugin-0.5.9` with the values
the plan registered; it has no values.schema.json, so the values are checked against its values.yaml keys.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime.mocks import MockResourceArgs

from components.kubernetes.storage_manifests import (
    CHART_NAME,
    CONFIG_CHECKSUM_ANNOTATION,
    CONFIG_SECRET,
    CSI_CHART,
    DEFAULT_CLASS_ANNOTATION,
    PROVISIONER,
    TOPOLOGY_REGION,
    example_claim_name,
    plugin_config,
)
from components.proxmox.storage_access import CSI_PRIVILEGES, token_id, user_id
from components.talos.patches import TOPOLOGY_ZONE, node_patches
from config.guests import talos_nodes
from config.storage import VOLUME_OWNER_VM_ID, plugin_api_url, volume_datastore
from plan.mocks import LabMocks
from plan.monitor import Registration
from plan.run import PlanResult
from tests.support import STACK_NAMES, named, require_chart, require_helm, stack_config, stack_plan, upstream

Manifest = dict[str, Any]
STACK = "ha"  # storage on, two hosts
ROLE = "proxmoxve:index/roleLegacy:RoleLegacy"
USER = "proxmoxve:index/userLegacy:UserLegacy"
TOKEN = "proxmoxve:user/token:Token"
ACL = "proxmoxve:index/acl:Acl"
STORAGE_CLASS = "kubernetes:storage.k8s.io/v1:StorageClass"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
# What the storage feature adds to a plan, by type.
STORAGE_TYPES = {ROLE, USER, TOKEN, ACL, STORAGE_CLASS, STATEFUL_SET, "homelab:kubernetes:Storage"}
# Privileges that would let the token change the cluster or hand out rights: never in its role.
FORBIDDEN = {"Sys.Modify", "Permissions.Modify", "User.Modify", "Realm.Allocate", "Realm.AllocateUser"}


def _chart() -> Path:
    return require_chart(CHART_NAME, CSI_CHART.version)


def _plan() -> PlanResult:
    return stack_plan(STACK)


def _release() -> Registration:
    return named(_plan(), "storage-release")


@functools.cache
def _helm_template(values_json: str) -> tuple[Manifest, ...]:
    helm = require_helm()
    with tempfile.TemporaryDirectory() as tmp:
        values = Path(tmp) / "values.json"
        values.write_text(values_json, encoding="utf-8")
        command = [str(helm), "template", CSI_CHART.release_name, str(_chart()), "--namespace", CSI_CHART.namespace]
        result = subprocess.run(
            [*command, "--values", str(values)], capture_output=True, text=True, check=False, timeout=120
        )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def _rendered(values: dict[str, Any] | None = None) -> tuple[Manifest, ...]:
    given = _release().inputs["values"] if values is None else values
    return _helm_template(json.dumps(given, sort_keys=True))


def _one(objects: tuple[Manifest, ...], kind: str) -> Manifest:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def _chart_defaults() -> dict[str, Any]:
    return yaml.safe_load((_chart() / "values.yaml").read_text(encoding="utf-8"))


def _documented_privileges() -> set[str]:
    """The role the chart's README gives (`pveum role add CSI -privs "..."`, its first, non-replication form)."""
    readme = (_chart() / "README.md").read_text(encoding="utf-8")
    first = re.search(r'pveum role add CSI -privs "([^"]+)"', readme)
    assert first is not None, "the chart README no longer documents the role"
    return set(first.group(1).split())


# --- the release and the chart ----------------------------------------------------------------


@pytest.mark.schemas
def test_release_is_the_pinned_oci_chart_in_its_privileged_namespace() -> None:
    inputs = _release().inputs
    assert (inputs["chart"], inputs["version"]) == ("oci://ghcr.io/sergelogvinov/charts/proxmox-csi-plugin", "0.5.9")
    assert "repositoryOpts" not in inputs  # an oci:// chart has no repository
    assert (inputs["name"], inputs["namespace"], inputs["createNamespace"]) == (CHART_NAME, "csi-proxmox", False)
    chart = yaml.safe_load((_chart() / "Chart.yaml").read_text(encoding="utf-8"))
    assert (chart["version"], chart["appVersion"]) == ("0.5.9", "v0.19.1")
    labels = named(_plan(), "storage-namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"


def _key_problems(given: Any, defaults: Any, path: str = "") -> list[str]:
    """Keys of `given` the chart does not have; a default that is empty or not a mapping is free-form."""
    if not isinstance(given, dict) or not isinstance(defaults, dict) or not defaults:
        return []
    problems: list[str] = []
    for key, value in given.items():
        if key not in defaults:
            problems.append(f"{path}{key}")
        else:
            problems += _key_problems(value, defaults[key], f"{path}{key}.")
    return problems


@pytest.mark.schemas
def test_values_use_only_keys_of_the_charts_values_yaml() -> None:
    assert not (_chart() / "values.schema.json").exists()  # else validate against it instead
    assert _key_problems(_release().inputs["values"], _chart_defaults()) == []
    assert _key_problems({"node": {"nodeSelectr": {}}}, _chart_defaults()) == ["node.nodeSelectr"]


@pytest.mark.schemas
def test_controller_reads_the_programs_secret_and_runs_on_control_planes() -> None:
    objects = _rendered()
    assert not [o for o in objects if o["kind"] in {"Secret", "StorageClass", "Namespace"}]
    pod = _one(objects, "Deployment")["spec"]["template"]["spec"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == "cloud-config"]
    assert volume["secret"] == {"secretName": CONFIG_SECRET, "items": [{"key": "config.yaml", "path": "config.yaml"}]}
    assert named(_plan(), "storage-config").inputs["metadata"]["name"] == CONFIG_SECRET
    assert pod["nodeSelector"] == {"node-role.kubernetes.io/control-plane": ""}
    assert {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"} in pod["tolerations"]
    (plugin,) = [c for c in pod["containers"] if c["name"].endswith("-controller")]
    assert plugin["image"] == "ghcr.io/sergelogvinov/proxmox-csi-controller:v0.19.1"
    assert {o["metadata"].get("namespace") for o in objects} <= {CSI_CHART.namespace, None}


@pytest.mark.schemas
def test_node_plugin_runs_on_every_node_the_machine_configs_label_with_the_region() -> None:
    config = stack_config(STACK)
    pod = _one(_rendered(), "DaemonSet")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {TOPOLOGY_REGION: config.proxmox.cluster_name}
    assert pod["tolerations"] == [{"operator": "Exists"}]  # control planes too, whatever their taints
    assert {node.proxmox_node for node in talos_nodes(config)} == {"pve-a", "pve-b", "pve-c"}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_node_is_labelled_with_its_region_and_host_storage_or_not(stack: str) -> None:
    config = stack_config(stack)
    for node in talos_nodes(config):
        (machine,) = [yaml.safe_load(p) for p in node_patches(config, node, "installer") if p.startswith("machine:")]
        labels = machine["machine"]["nodeLabels"]
        assert labels == {TOPOLOGY_REGION: config.proxmox.cluster_name, TOPOLOGY_ZONE: node.proxmox_node}


@pytest.mark.schemas
def test_a_new_token_rolls_the_controller_and_the_values_stay_readable() -> None:
    release = _release()
    assert release.secret_inputs == []
    config = plugin_config(
        url="https://10.77.0.2:8006/api2/json",
        token_id=token_id("lab2"),
        token_secret=_mock_token_secret(),
        region="lab2-pve",
        insecure=False,
    )
    annotations = _one(_rendered(), "Deployment")["spec"]["template"]["metadata"]["annotations"]
    assert annotations[CONFIG_CHECKSUM_ANNOTATION] == hashlib.sha256(config.encode()).hexdigest()


@pytest.mark.schemas
def test_csi_driver_is_the_provisioner_the_storage_class_names() -> None:
    driver = _one(_rendered(), "CSIDriver")
    assert driver["metadata"]["name"] == PROVISIONER == _chart_defaults()["provisionerName"]
    assert named(_plan(), "storage-class").inputs["provisioner"] == PROVISIONER


# --- the StorageClass ---------------------------------------------------------------------------


def test_storage_class_is_the_default_on_the_configured_datastore() -> None:
    config = stack_config(STACK)
    inputs = named(_plan(), "storage-class").inputs
    assert inputs["metadata"]["name"] == config.storage.storage_class == "fast"
    assert inputs["metadata"]["annotations"] == {DEFAULT_CLASS_ANNOTATION: "true"}
    assert inputs["parameters"] == {"csi.storage.k8s.io/fstype": "xfs", "storage": "fast-zfs"}
    assert volume_datastore(config) == config.proxmox.vm_datastore == "fast-zfs"
    assert (inputs["reclaimPolicy"], inputs["volumeBindingMode"]) == ("Retain", "WaitForFirstConsumer")
    assert inputs["allowVolumeExpansion"] is True
    assert not [r for r in _plan().by_type(STORAGE_CLASS) if r.name != "storage-class"]


@pytest.mark.schemas
def test_storage_class_is_what_the_charts_own_template_makes_of_the_same_settings() -> None:
    """The chart's StorageClass template (templates/storageclass.yaml, _storage.tpl) as the reference."""
    inputs = named(_plan(), "storage-class").inputs
    entry = {
        "name": inputs["metadata"]["name"],
        "storage": inputs["parameters"]["storage"],
        "fstype": inputs["parameters"]["csi.storage.k8s.io/fstype"],
        "reclaimPolicy": inputs["reclaimPolicy"],
        "annotations": inputs["metadata"]["annotations"],
    }
    reference = _one(_rendered({**_release().inputs["values"], "storageClass": [entry]}), "StorageClass")
    for field in ("provisioner", "parameters", "reclaimPolicy", "volumeBindingMode", "allowVolumeExpansion"):
        assert inputs[field] == reference[field], field
    assert inputs["metadata"]["annotations"] == reference["metadata"]["annotations"]


def test_immutable_class_fields_replace_it() -> None:
    options = named(_plan(), "storage-class").options
    assert options.replace_on_changes == ["reclaimPolicy", "volumeBindingMode"]


# --- the plugin's config and the Proxmox access -------------------------------------------------


def test_plugin_config_has_the_documented_fields_and_pins_the_volume_owner() -> None:
    text = plugin_config(
        url="https://10.77.0.2:8006/api2/json", token_id="u@pve!csi", token_secret="s", region="r", insecure=False
    )
    document = yaml.safe_load(text)
    assert document["features"] == {"provider": "default", "controllerVmID": VOLUME_OWNER_VM_ID}
    assert document["clusters"] == [
        {
            "url": "https://10.77.0.2:8006/api2/json",
            "insecure": False,
            "token_id": "u@pve!csi",
            "token_secret": "s",
            "region": "r",
        }
    ]


def test_the_plugin_calls_proxmox_on_the_lab_bridge() -> None:
    assert plugin_api_url(stack_config(STACK)) == "https://10.77.0.2:8006/api2/json"  # network.hostAddresses.pve-a


@pytest.mark.schemas
def test_role_has_exactly_the_privileges_the_plugin_documents() -> None:
    (role,) = _plan().by_type(ROLE)
    assert set(role.inputs["privileges"]) == _documented_privileges() == set(CSI_PRIVILEGES)
    assert role.inputs["privileges"] == sorted(role.inputs["privileges"])  # no diff from Proxmox's ordering
    assert not FORBIDDEN & set(role.inputs["privileges"])
    assert role.inputs["roleId"] == "homelab-csi-lab2"


def test_token_is_privilege_separated_and_the_user_has_no_password() -> None:
    (user,) = _plan().by_type(USER)
    (token,) = _plan().by_type(TOKEN)
    assert user.inputs["userId"] == user_id("lab2") == "homelab-csi-lab2@pve"
    assert "password" not in user.inputs
    assert (token.inputs["tokenName"], token.inputs["privilegesSeparation"]) == ("csi", True)


def test_acls_cover_the_datastore_and_each_node_vm_for_the_user_and_the_token_only() -> None:
    config = stack_config(STACK)
    nodes = talos_nodes(config)
    paths = {"/storage/fast-zfs", *(f"/vms/{node.vm_id}" for node in nodes)}
    acls = _plan().by_type(ACL)
    granted = {(a.inputs.get("userId"), a.inputs.get("tokenId"), a.inputs["path"]) for a in acls}
    expected = {(user_id("lab2"), None, path) for path in paths} | {(None, token_id("lab2"), path) for path in paths}
    assert granted == expected
    assert len(acls) == 2 * (len(nodes) + 1)
    for acl in acls:
        assert acl.inputs["roleId"] == "homelab-csi-lab2"
        assert acl.inputs["propagate"] is False
    assert config.client.vm_id not in {int(path.rsplit("/", 1)[1]) for *_, path in granted if path.startswith("/vms/")}


def test_a_node_vms_grant_is_made_again_when_its_vm_is_replaced() -> None:
    """Proxmox drops a VM's ACLs when it destroys the VM; the grant follows the VM's replacement."""
    plan = _plan()
    for node in talos_nodes(stack_config(STACK)):
        vm = named(plan, f"{node.key}-vm")
        for principal in ("user", "token"):
            acl = named(plan, f"storage-access-{principal}-vm-{node.vm_id}")
            assert acl.options.replace_with == [vm.urn]
            assert acl.options.delete_before_replace  # the same entry: deleted, then granted again
            assert vm.urn in acl.dependencies  # granted only once the new VM exists


def _mock_token_secret() -> str:
    _, outputs = LabMocks().new_resource(
        MockResourceArgs(TOKEN, "storage-access-token", {"userId": user_id("lab2"), "tokenName": "csi"})
    )
    return str(outputs["value"]).partition("=")[2]


def test_the_token_secret_reaches_the_cluster_only_as_a_secret() -> None:
    plan = _plan()
    secret = named(plan, "storage-config")
    assert secret.secret_inputs == ["data"]
    assert secret.inputs["data"] == "[secret]"
    everything = json.dumps([r.as_json() for r in plan.registrations])
    assert _mock_token_secret() not in everything
    assert "tokenSecret" not in everything and "token_secret" not in everything


# --- where it sits in the graph -----------------------------------------------------------------


def test_storage_waits_for_the_cluster_not_for_metallb_or_traefik() -> None:
    plan = _plan()
    release = _release()
    waits = upstream(plan, release)
    assert named(plan, "kubernetes").urn in waits
    assert {named(plan, "storage-namespace").urn, named(plan, "storage-config").urn} <= set(release.dependencies)
    for other in ("metallb-release", "traefik-release", "example-site-namespace"):
        assert named(plan, other).urn not in waits
    assert named(plan, "traefik-release").urn not in upstream(plan, named(plan, "storage-class"))


def test_example_volume_claims_the_default_class_once_the_driver_is_there() -> None:
    plan = _plan()
    stateful_set = named(plan, "example-volume-statefulset")
    spec = stateful_set.inputs["spec"]
    (template,) = spec["volumeClaimTemplates"]
    assert "storageClassName" not in template["spec"]  # the default class is what it proves
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert example_claim_name() == "data-example-volume-0"
    # Waiting on the component is waiting on its children: the driver and the class.
    assert {named(plan, "storage-release").urn, named(plan, "storage-class").urn} <= set(stateful_set.dependencies)
    labels = named(plan, "example-volume-namespace").inputs["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_storage_off_adds_nothing() -> None:
    plan = stack_plan("dev")
    assert not stack_config("dev").storage.enabled
    assert not [
        r for r in plan.registrations if r.type in STORAGE_TYPES or r.name.startswith(("storage", "example-volume"))
    ]
