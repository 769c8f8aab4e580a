"""The Talos layer under mocks: secrets -> config -> apply -> bootstrap -> kubeconfig; the health gate."""

from __future__ import annotations

import pytest
import yaml

from components.talos.patches import node_patches
from config.guests import CLIENT_KEY, Role, client_guest, talos_nodes
from tests.support import (
    APPLY,
    BOOTSTRAP,
    COMMAND,
    DATACENTER_FIREWALL,
    HEALTH_INVOKE,
    K8S_PROVIDER,
    KUBECONFIG,
    MACHINE_CONFIG_INVOKE,
    SCHEMATIC,
    SECRETS,
    STACK_NAMES,
    TALOSCONFIG_INVOKE,
    VM,
    installer_image,
    invokes,
    named,
    stack_config,
    stack_plan,
    upstream,
)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_each_apply_waits_for_its_vm_and_the_router_and_nothing_else(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    (secrets,) = plan.by_type(SECRETS)
    (schematic,) = plan.by_type(SCHEMATIC)
    # The router is ready with its files pushed and its lab NIC's Proxmox firewall set.
    router = {named(plan, f"router-{name}").urn for name in ("container", "configure", "firewall-options")}
    applies = {a.inputs["node"]: a for a in plan.by_type(APPLY)}
    assert sorted(applies) == sorted(str(n.address) for n in talos_nodes(config))
    for node in talos_nodes(config):
        apply = applies[str(node.address)]
        assert apply.inputs["endpoint"] == str(node.address)
        vm = named(plan, f"{node.key}-vm").urn
        # Its NIC's filters, in force (the datacenter firewall on), before the machine config goes out.
        guard = {r.urn for r in plan.registrations if r.parent == named(plan, f"{node.key}-firewall").urn}
        guard |= {r.urn for r in plan.by_type(DATACENTER_FIREWALL)}
        # And the hosts' own rules keeping the lab off their management ports (a host on the lab bridge).
        guard |= {r.urn for r in plan.registrations if r.name.startswith("datacenter-firewall-") and r.custom}
        # The router's: ready means configured over its pinned host key.
        router_access = {named(plan, f"router-host-key-{name}").urn for name in ("ed25519", "install")}
        # Secrets and the schematic are data (machine secrets, installer image), not ordering; so is the
        # running lab's inventory (the Kubernetes version the configs keep while the rollout upgrades it).
        (previous,) = plan.by_type("pulumi:pulumi:StackReference")
        assert set(apply.dependencies) == {
            vm,
            *router,
            *router_access,
            *guard,
            secrets.urn,
            schematic.urn,
            previous.urn,
        }
        assert {"clientConfiguration", "machineConfigurationInput"} <= set(apply.secret_inputs)
        # No reset on destroy: the node's leave command takes it out, then the VM and its disks go.
        assert "onDestroy" not in apply.inputs


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_one_bootstrap_on_the_first_control_plane_after_its_apply(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    (bootstrap,) = plan.by_type(BOOTSTRAP)
    first = str(config.cluster.control_planes[0].address)
    assert bootstrap.inputs["node"] == first
    first_apply = next(a for a in plan.by_type(APPLY) if a.inputs["node"] == first)
    assert first_apply.urn in bootstrap.dependencies
    other_applies = {a.urn for a in plan.by_type(APPLY)} - {first_apply.urn}
    assert not other_applies & set(bootstrap.dependencies)
    assert "clientConfiguration" in bootstrap.secret_inputs


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_health_gate_guards_the_first_bootstrap_only(stack: str) -> None:
    """No health invoke (it would run on every preview and up, and fail them with a node down): a command
    on the client runs `talosctl health` once, after the bootstrap and every apply, before the provider."""
    config, plan = stack_config(stack), stack_plan(stack)
    assert invokes(plan, HEALTH_INVOKE) == []
    (kubeconfig,) = plan.by_type(KUBECONFIG)
    (bootstrap,) = plan.by_type(BOOTSTRAP)
    assert bootstrap.urn in kubeconfig.dependencies
    client = client_guest(config).key
    health = named(plan, f"{client}-health")
    assert {bootstrap.urn, *(a.urn for a in plan.by_type(APPLY))} <= set(health.dependencies)
    assert named(plan, f"{client}-talosconfig").urn in health.dependencies
    control_planes = [str(n.address) for n in talos_nodes(config) if n.role is Role.CONTROL_PLANE]
    workers = [str(n.address) for n in talos_nodes(config) if n.role is Role.WORKER]
    command = health.inputs["create"]
    assert f"until timeout 360 talosctl --nodes {control_planes[0]} health --wait-timeout 300s " in command
    assert "gave up after %s s waiting for %s" in command  # bounded, and says so
    assert f"--control-plane-nodes {','.join(control_planes)}" in command
    assert (f"--worker-nodes {','.join(workers)}" in command) == bool(workers)
    # Only the first run counts: a later change of the node list or the key does not run it again.
    assert health.options.ignore_changes == ["connection", "create"]
    (provider,) = plan.by_type(K8S_PROVIDER)
    assert health.urn in provider.dependencies
    assert provider.secret_inputs == ["kubeconfig"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_invokes_receive_camel_case_secrets(stack: str) -> None:
    """pulumiverse-talos 0.8.1 sends snake_case if the Secrets outputs are passed as they are (DESIGN §8)."""
    plan = stack_plan(stack)
    for record in invokes(plan, MACHINE_CONFIG_INVOKE):
        assert "machineSecrets.secrets.bootstrapToken" in record.key_paths
        assert "machineSecrets.certs.k8sServiceaccount.key" in record.key_paths
        assert not [p for p in record.key_paths if "_" in p.rsplit(".", 1)[-1]]
    (talosconfig,) = invokes(plan, TALOSCONFIG_INVOKE)
    assert "clientConfiguration.caCertificate" in talosconfig.key_paths
    assert "clientConfiguration.ca_certificate" not in talosconfig.key_paths


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_machine_configs_carry_the_rendered_patches(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    by_hostname = {}
    for record in invokes(plan, MACHINE_CONFIG_INVOKE):
        docs = [yaml.safe_load(p) for p in record.args["configPatches"]]
        hostname = next(d["hostname"] for d in docs if d.get("kind") == "HostnameConfig")
        by_hostname[hostname] = record
    for node in talos_nodes(config):
        record = by_hostname[node.name]
        assert record.args["machineType"] == node.role.value
        assert record.args["configPatches"] == node_patches(config, node, installer_image(plan))
        assert record.args["talosVersion"] == config.cluster.machine_config_contract
        assert record.args["kubernetesVersion"] == config.cluster.kubernetes_version


def test_ha_stack_puts_the_vip_on_control_planes_only_and_uses_it_for_kubernetes_only() -> None:
    config, plan = stack_config("ha"), stack_plan("ha")
    vip = str(config.cluster.vip)
    for record in invokes(plan, MACHINE_CONFIG_INVOKE):
        assert record.args["clusterEndpoint"] == f"https://{vip}:6443"
        kinds = [yaml.safe_load(p).get("kind") for p in record.args["configPatches"]]
        assert ("Layer2VIPConfig" in kinds) == (record.args["machineType"] == "controlplane")
    (talosconfig,) = invokes(plan, TALOSCONFIG_INVOKE)
    # The Talos API is reached on the control planes themselves, never through the VIP (Talos' VIP guide).
    control_planes = [str(node.address) for node in talos_nodes(config) if node.role is Role.CONTROL_PLANE]
    assert talosconfig.args["endpoints"] == control_planes
    assert vip not in talosconfig.args["endpoints"]
    assert plan.outputs["clusterEndpoint"] == f"https://{vip}:6443"


def test_single_control_plane_endpoint_is_the_control_plane() -> None:
    config, plan = stack_config("dev"), stack_plan("dev")
    first = str(config.cluster.control_planes[0].address)
    for record in invokes(plan, MACHINE_CONFIG_INVOKE):
        assert record.args["clusterEndpoint"] == f"https://{first}:6443"
        assert "Layer2VIPConfig" not in "".join(record.args["configPatches"])
    (talosconfig,) = invokes(plan, TALOSCONFIG_INVOKE)
    assert talosconfig.args["endpoints"] == [first]
    assert talosconfig.args["nodes"] == [str(n.address) for n in talos_nodes(config)]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_client_receives_configs_over_stdin_as_secrets(stack: str) -> None:
    plan = stack_plan(stack)
    client = client_guest(plan.config).key
    (kubeconfig,) = plan.by_type(KUBECONFIG)
    for file_name, path in (("talosconfig", "/root/.talos/config"), ("kubeconfig", "/root/.kube/config")):
        command = named(plan, f"{client}-{file_name}")
        assert command.type == COMMAND
        assert command.inputs["stdin"] == "[secret]"
        assert "stdin" in command.secret_inputs
        assert command.inputs["logging"] == "none"
        assert path in command.inputs["create"] and "umask 077" in command.inputs["create"]
        assert named(plan, f"{client}-tools").urn in command.dependencies
    assert kubeconfig.urn in named(plan, f"{client}-kubeconfig").dependencies


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_talos_secrets_never_appear_in_clear(stack: str) -> None:
    plan = stack_plan(stack)
    text = "".join(repr(r.as_json()) for r in plan.registrations) + repr(plan.outputs)
    assert "BEGIN OPENSSH PRIVATE KEY" not in text
    assert "BEGIN PRIVATE KEY" not in text
    assert "kind: Config" not in text  # the mocked kubeconfig body
    vm_names = {r.inputs["name"] for r in plan.by_type(VM)}
    assert vm_names == {n.name for n in talos_nodes(plan.config)}


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_secrets_keep_the_talos_version_they_were_made_for(stack: str) -> None:
    """An update would make every secret unknown in the preview, and the provider built on them look replaced."""
    (secrets,) = stack_plan(stack).by_type(SECRETS)
    assert secrets.options.ignore_changes == ["talosVersion"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_rollout_runs_only_after_the_health_gate(stack: str) -> None:
    """On a fresh lab the API server is still coming up when the bootstrap and the applies are done."""
    plan = stack_plan(stack)
    rollout = named(plan, "cluster-upgrade-rollout")
    health = named(plan, f"{CLIENT_KEY}-health")
    assert health.urn in upstream(plan, rollout)
    assert health.urn in rollout.dependencies
