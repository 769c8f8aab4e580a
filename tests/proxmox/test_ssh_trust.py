"""Every SSH command after first contact pins its container's host key (DESIGN §3, Trust contract)."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import MockResourceArgs, rpc

import plan.run as plan_run
from components.proxmox.host_key_files import install_access_command, install_host_key_command, render_access_drop_in
from config.guests import client_guest
from plan.mocks import Outputs
from plan.monitor import Registration
from plan.run import PlanResult, run_plan
from tests.network.tools import require_tools
from tests.support import COMMAND, CONTAINER, FIREWALL_RULES, STACK_NAMES, dig, named, stack_config, stack_plan

PRIVATE_KEY = "tls:index/privateKey:PrivateKey"


def _commands(plan: PlanResult) -> list[Registration]:
    return [r for r in plan.registrations if r.type == COMMAND]


def _host_keys(plan: PlanResult) -> dict[str, str]:
    """Each container's pinned key (the public stack output), by the address its commands dial."""
    outputs = plan.outputs
    return {outputs["routerWanAddress"]: outputs["routerHostKey"], outputs["clientAddress"]: outputs["clientHostKey"]}


def _connections(stack: str, monkeypatch: pytest.MonkeyPatch) -> tuple[PlanResult, dict[str, dict[str, Any]]]:
    """A fresh plan, and each command's connection as the provider would get it (the plan shows it as
    "[secret]": it holds the private key)."""
    seen: dict[str, dict[str, Any]] = {}

    class Recording(plan_run.LabMocks):
        def new_resource(self, args: MockResourceArgs) -> tuple[str, Outputs]:
            if args.typ == COMMAND:
                connection = args.inputs["connection"]
                seen[args.name] = rpc.unwrap_rpc_secret(connection) if rpc.is_rpc_secret(connection) else connection
            return super().new_resource(args)

    monkeypatch.setattr(plan_run, "LabMocks", Recording)
    return run_plan(stack_config(stack), stack), seen


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_command_but_one_per_container_pins_that_containers_host_key(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, connections = _connections(stack, monkeypatch)
    keys = _host_keys(result)
    assert len(set(keys.values())) == 2, "the router and the client share a host key"
    assert sorted(connections) == sorted(c.name for c in _commands(result))
    unpinned: list[str] = []
    for name, connection in connections.items():
        command = named(result, name)
        if "hostKey" not in connection:
            unpinned.append(command.name)
            continue
        assert connection["hostKey"] == keys[connection["host"]].strip(), command.name
        assert connection["hostKey"].startswith("ssh-ed25519 "), command.name
    assert sorted(unpinned) == sorted(
        [f"{client_guest(stack_config(stack)).key}-host-key-install", "router-host-key-install"]
    )


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_first_contact_sends_only_the_new_host_key_and_keeps_it_secret(stack: str) -> None:
    plan = stack_plan(stack)
    for name in ("router-host-key-install", f"{client_guest(stack_config(stack)).key}-host-key-install"):
        install = named(plan, name)
        assert install.inputs["stdin"] == "[secret]"
        assert "stdin" in install.secret_inputs
        assert install.inputs["logging"] == "none"
        # Nothing of the lab on the command line: the same constant script for every container.
        assert "BEGIN" not in install.inputs["create"]
        assert "HostKey /etc/ssh/ssh_host_ed25519_key" in install.inputs["create"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_a_replaced_container_gets_a_new_host_key_and_its_commands_run_again(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan, connections = _connections(stack, monkeypatch)
    client = client_guest(stack_config(stack)).key
    by_urn = {r.urn: r for r in plan.registrations}
    for prefix in ("router", client):
        container = named(plan, f"{prefix}-container")
        assert container.type == CONTAINER
        key = named(plan, f"{prefix}-host-key-ed25519")
        assert key.type == PRIVATE_KEY and key.inputs["algorithm"] == "ED25519"
        assert key.options.replace_with == [container.urn]
        install = named(plan, f"{prefix}-host-key-install")
        assert install.options.replace_with == [container.urn]
        assert container.urn in install.dependencies
        host = connections[install.name]["host"]
        pinned = [named(plan, n) for n, c in connections.items() if c["host"] == host and n != install.name]
        assert pinned
        for command in pinned:
            # Every pinned command waits for the key to be installed (directly or through one that did).
            assert install.urn in _upstream(by_urn, command), command.name


def _upstream(by_urn: dict[str, Registration], registration: Registration) -> set[str]:
    seen: set[str] = set()
    todo = list(registration.dependencies)
    while todo:
        urn = todo.pop()
        if urn in seen or urn not in by_urn:
            continue
        seen.add(urn)
        todo += by_urn[urn].dependencies
    return seen


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_private_host_and_management_keys_are_secret(stack: str) -> None:
    plan = stack_plan(stack)
    keys = [r for r in plan.registrations if r.type == PRIVATE_KEY and "host-key" in r.name]
    assert len(keys) == 2
    for command in _commands(plan):
        assert "connection.privateKey" in command.secret_inputs or "connection" in command.secret_inputs, command.name
    assert {"managementPrivateKey", "routerManagementPrivateKey"} <= set(plan.secret_outputs)
    assert not {"routerHostKey", "clientHostKey"} & set(plan.secret_outputs)


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_router_and_the_client_have_their_own_management_key(stack: str) -> None:
    plan = stack_plan(stack)
    router = named(plan, "router-container")
    client = named(plan, f"{client_guest(stack_config(stack)).key}-container")
    router_keys = dig(router.inputs, "initialization", "userAccount", "keys")
    client_keys = dig(client.inputs, "initialization", "userAccount", "keys")
    own = Counter([*router_keys, *client_keys])
    # The users' keys open both; the program's own key opens one container only.
    assert [key for key, count in own.items() if count == 1] == [router_keys[0], client_keys[0]]
    assert router_keys[0] != client_keys[0]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_clients_sshd_answers_only_admins_and_the_router(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    client = client_guest(config).key
    allowed = [*map(str, config.network.admin_cidrs), f"{config.network.router.address}/32"]
    access = named(plan, f"{client}-sshd-access")
    assert render_access_drop_in(allowed) in access.inputs["create"]
    (rules,) = [r for r in plan.registrations if r.type == FIREWALL_RULES and r.name.startswith(f"{client}-firewall")]
    ssh_rules = [rule for rule in rules.inputs["rules"] if rule.get("dport") == "22"]
    assert [(r["type"], r["action"]) for r in ssh_rules] == [("in", "ACCEPT"), ("in", "DROP")]
    assert ssh_rules[0]["source"].split(",") == [
        *map(str, config.network.admin_cidrs),
        str(config.network.router.address),
    ]
    assert "source" not in ssh_rules[1]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_the_outputs_give_what_known_hosts_and_a_neighbour_pin_need(stack: str) -> None:
    plan = stack_plan(stack)
    router = named(plan, "router-container")
    assert plan.outputs["routerWanMac"] == router.inputs["networkInterfaces"][0]["macAddress"]
    for output in ("routerHostKey", "clientHostKey"):
        assert plan.outputs[output].startswith("ssh-ed25519 ")


def test_the_sshd_commands_pass_shellcheck(tmp_path: Path) -> None:
    tools = require_tools("shellcheck")
    for name, script in (
        ("install-host-key.sh", install_host_key_command()),
        ("install-access.sh", install_access_command(render_access_drop_in(["192.168.0.0/24", "192.168.1.200/32"]))),
    ):
        path = tmp_path / name
        path.write_text(script, encoding="utf-8")
        done = subprocess.run(
            [tools["shellcheck"], "--shell=sh", str(path)], capture_output=True, text=True, check=False, timeout=30
        )
        assert done.returncode == 0, done.stdout


def test_the_access_drop_in_names_networks_as_sshd_matches_them() -> None:
    assert render_access_drop_in(["192.168.0.0/24", "10.0.0.7"]).splitlines()[1] == (
        "AllowUsers root@192.168.0.0/24 root@10.0.0.7/32"
    )


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_no_secret_reaches_the_client_before_its_sshd_is_closed_to_the_lab(stack: str) -> None:
    plan = stack_plan(stack)
    client = client_guest(stack_config(stack)).key
    by_urn = {r.urn: r for r in plan.registrations}
    access = named(plan, f"{client}-sshd-access")
    for name in ("talosconfig", "kubeconfig"):
        assert access.urn in _upstream(by_urn, named(plan, f"{client}-{name}")), name
