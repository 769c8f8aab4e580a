"""The rollout under mocks: one command on the client, its inputs and ordering, the config contract,
and the day-2 scenarios of a Talos patch bump and a Kubernetes minor bump as changes to the registrations."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
import yaml

from components.proxmox.remote import RUN_STDIN_SCRIPT
from components.talos.client_tools import KUBECTL_URL, TALOSCTL_URL
from components.talos.upgrade import SCRIPT_PATH
from components.talos.upgrade_script import RolloutTarget, rollout_script
from config.guests import client_guest, talos_nodes
from config.models import LabConfig
from diff.engine import diff_plans
from plan.run import PlanResult, run_plan
from tests.provider_schema import resource_schema
from tests.support import (
    APPLY,
    BOOTSTRAP,
    COMMAND,
    K8S_PROVIDER,
    MACHINE_CONFIG_INVOKE,
    SECRETS,
    STACK_NAMES,
    invokes,
    named,
    stack_config,
    stack_plan,
    upstream,
)

ROLLOUT = "cluster-upgrade-rollout"


def with_cluster(config: LabConfig, **changes: Any) -> LabConfig:
    return config.model_copy(update={"cluster": config.cluster.model_copy(update=changes)})


@functools.cache
def bumped(what: str) -> tuple[PlanResult, PlanResult]:
    """The dev stack before and after a Talos patch bump or a Kubernetes minor bump."""
    dev = stack_config("dev")
    if what == "talos":
        return stack_plan("dev"), run_plan(with_cluster(dev, talos_version="v1.13.10"), "dev")
    return run_plan(with_cluster(dev, kubernetes_version="1.35.4"), "dev"), stack_plan("dev")


def machine_config_args(plan: PlanResult) -> dict[str, dict[str, Any]]:
    """Each node's machine config invoke arguments, by node name."""
    by_node: dict[str, dict[str, Any]] = {}
    for record in invokes(plan, MACHINE_CONFIG_INVOKE):
        documents = [yaml.safe_load(patch) for patch in record.args["configPatches"]]
        by_node[next(d["hostname"] for d in documents if d.get("kind") == "HostnameConfig")] = record.args
    return by_node


def changes(old: PlanResult, new: PlanResult) -> dict[str, set[str]]:
    """What `pulumi up` would change (`homelab diff`), by resource name: the top-level input keys that differ.

    A node's machine config is secret, compared by digest: its apply counts as changed when the config does.
    """
    found = diff_plans(old, new)
    assert not [c.name for c in found if c.action in ("create", "delete")], "resources created or deleted"
    return {c.name: {re.split(r"[.\[]", path, maxsplit=1)[0] for path in c.paths} for c in found}


def target(plan: PlanResult) -> RolloutTarget:
    """What the stack's rollout should aim at: the installer image of the machine configs, and its schematic."""
    config = plan.config
    (image,) = {
        yaml.safe_load(args["configPatches"][0])["machine"]["install"]["image"]
        for args in machine_config_args(plan).values()
    }
    return RolloutTarget(
        talos_version=config.cluster.talos_version,
        schematic_id=image.rsplit("/", 1)[1].split(":")[0],
        installer_image=image,
        kubernetes_version=config.cluster.kubernetes_version,
        control_planes=[str(node.address) for node in config.cluster.control_planes],
        workers=[str(node.address) for node in config.cluster.workers],
    )


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_one_rollout_command_on_the_client_runs_the_rendered_script(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    (rollout,) = [r for r in plan.by_type(COMMAND) if "rollout" in r.name]
    assert rollout.name == ROLLOUT
    assert rollout.inputs["stdin"] == rollout_script(target(plan))
    # Update, not replace: the script on stdin carries the versions, the image and the node list, and a
    # changed stdin runs `create` again (no `update` command given; `triggers` would replace).
    assert rollout.inputs["create"] == RUN_STDIN_SCRIPT.format(path=SCRIPT_PATH)
    assert not {"triggers", "update", "delete"} & rollout.inputs.keys()
    client = named(plan, f"{client_guest(config).key}-tools")
    assert client.inputs["connection"] == rollout.inputs["connection"] == "[secret]"


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_rollout_runs_after_every_apply_the_bootstrap_and_the_client_tools_and_configs(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    rollout = named(plan, ROLLOUT)
    client = client_guest(config).key
    (bootstrap,) = plan.by_type(BOOTSTRAP)
    needed = {r.urn for r in plan.by_type(APPLY)} | {bootstrap.urn}
    needed |= {named(plan, f"{client}-{part}").urn for part in ("tools", "talosconfig", "kubeconfig")}
    assert needed <= set(rollout.dependencies)
    # Nothing waits for it: a fresh lab's Kubernetes layer does not queue behind the client.
    assert not [r.name for r in plan.registrations if rollout.urn in r.dependencies]
    (provider,) = plan.by_type(K8S_PROVIDER)
    assert rollout.urn not in upstream(plan, provider)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_no_secret_reaches_the_rollout_in_clear(stack: str) -> None:
    plan = stack_plan(stack)
    rollout = named(plan, ROLLOUT)
    assert rollout.secret_inputs == ["connection"]
    # talosctl and kubectl read the configs the client already holds (written from stdin, mode 0600).
    script = rollout.inputs["stdin"]
    for secret in ("BEGIN", "client-key", "ca:", "token", "kind: Config"):
        assert secret not in script
    assert "--talosconfig" not in script and "--kubeconfig" not in script


def test_the_config_contract_follows_its_own_key_not_the_talos_version() -> None:
    old, new = bumped("talos")
    for plan in (old, new):
        (secrets,) = plan.by_type(SECRETS)
        assert secrets.inputs["talosVersion"] == "v1.13"
        assert {args["talosVersion"] for args in machine_config_args(plan).values()} == {"v1.13"}
    assert old.by_type(SECRETS)[0].inputs == new.by_type(SECRETS)[0].inputs


@pytest.mark.parametrize(
    ("what", "changed_config_arg", "versions", "tools_url"),
    [
        ("talos", "configPatches", ("v1.13.10", "1.36.3"), TALOSCTL_URL.format(version="v1.13.10")),
        ("kubernetes", "kubernetesVersion", ("v1.13.9", "1.36.3"), KUBECTL_URL.format(version="1.36.3")),
    ],
)
def test_a_version_bump_updates_the_configs_the_client_and_the_rollout_and_replaces_nothing(
    what: str, changed_config_arg: str, versions: tuple[str, str], tools_url: str
) -> None:
    old, new = bumped(what)
    nodes = [node.name for node in (*new.config.cluster.control_planes, *new.config.cluster.workers)]
    client = client_guest(new.config).key
    assert changes(old, new) == {
        f"{client}-tools": {"stdin"},
        ROLLOUT: {"stdin"},
        **{f"cluster-{node.key}-apply": {"machineConfigurationInput"} for node in talos_nodes(new.config)},
    }
    # Each node's new config differs in that one argument only (a Talos bump: the installer image in a patch).
    old_configs, new_configs = machine_config_args(old), machine_config_args(new)
    for node in nodes:
        before, after = old_configs[node], new_configs[node]
        assert {key for key in after if after[key] != before[key]} == {changed_config_arg}
    script = named(new, ROLLOUT).inputs["stdin"]
    assert script == rollout_script(target(new))
    assert f"TALOS_VERSION={versions[0]}" in script and f"KUBERNETES_VERSION={versions[1]}" in script
    # The client's talosctl or kubectl follows.
    assert tools_url in named(new, f"{client}-tools").inputs["stdin"]


def test_a_talos_bump_changes_only_the_installer_image_in_the_patches() -> None:
    old, new = bumped("talos")
    for node, args in machine_config_args(new).items():
        assert yaml.safe_load(args["configPatches"][0])["machine"]["install"]["image"].endswith(":v1.13.10"), node
    assert machine_config_args(old) != machine_config_args(new)


def test_a_kubernetes_bump_drops_the_old_kubectl() -> None:
    _, new = bumped("kubernetes")
    assert "1.35.4" not in named(new, f"{client_guest(new.config).key}-tools").inputs["stdin"]


@pytest.mark.parametrize("what", ["talos", "kubernetes"])
def test_no_changed_input_forces_a_replacement(what: str) -> None:
    """A Command is replaced only on `triggers` (replaceOnChanges in its schema; `stdin` runs `create` again);
    ConfigurationApply has no input that forces a new resource (terraform-provider-talos
    pkg/talos/talos_machine_configuration_apply_resource.go marks none RequiresReplace)."""
    old, new = bumped(what)
    types = {r.name: r.type for r in new.registrations}
    for name, keys in changes(old, new).items():
        properties = resource_schema(types[name])["inputProperties"]
        assert not {key for key in keys if properties[key].get("replaceOnChanges")}, name
    assert resource_schema(COMMAND)["inputProperties"]["triggers"]["replaceOnChanges"]
