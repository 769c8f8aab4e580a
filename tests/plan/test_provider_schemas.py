"""Every registered custom resource's inputs and every invoke's arguments fit the providers' package schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.provider_schema import SchemaChecker, package_of, require_provider_schemas
from tests.support import (
    K8S_PROVIDER,
    MACHINE_CONFIG_INVOKE,
    STACK_NAMES,
    VM,
    named,
    stack_plan,
)

PACKAGES = {"proxmoxve", "talos", "command", "tls", "kubernetes"}
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@pytest.fixture(scope="module")
def checker() -> SchemaChecker:
    return SchemaChecker(require_provider_schemas())


@pytest.mark.schemas
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_custom_resource_fits_its_provider_schema(checker: SchemaChecker, stack: str) -> None:
    # The engine's own resources (the program's StackReference to its stack) have no provider schema.
    resources = [r for r in stack_plan(stack).registrations if r.custom and not r.type.startswith("pulumi:pulumi:")]
    assert {package_of(r.type) for r in resources} == PACKAGES
    problems = [problem for r in resources for problem in checker.resource_problems(r.type, r.inputs)]
    assert problems == []


@pytest.mark.schemas
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_every_invoke_fits_its_function_schema(checker: SchemaChecker, stack: str) -> None:
    records = stack_plan(stack).invokes
    assert {record.token for record in records} >= {MACHINE_CONFIG_INVOKE}
    problems = [problem for record in records for problem in checker.invoke_problems(record.token, record.args)]
    assert problems == []


def _vm_inputs() -> dict[str, Any]:
    return copy.deepcopy(stack_plan("dev").by_type(VM)[0].inputs)


def test_unknown_missing_and_mistyped_properties_are_found(checker: SchemaChecker) -> None:
    inputs = _vm_inputs()
    inputs["bogus"] = 1
    del inputs["nodeName"]
    inputs["vmId"] = "201"
    inputs["agent"]["enabled"] = "yes"
    inputs["networkDevices"][0]["macAddress"] = 5
    inputs["tags"] = "homelab"
    problems = checker.resource_problems(VM, inputs)
    assert {problem.split(": ")[0] for problem in problems} == {
        f"{VM}.bogus",
        f"{VM}.nodeName",
        f"{VM}.vmId",
        f"{VM}.agent.enabled",
        f"{VM}.networkDevices[0].macAddress",
        f"{VM}.tags",
    }


def test_placeholders_stand_for_a_value_of_any_type(checker: SchemaChecker) -> None:
    inputs = _vm_inputs()
    inputs["vmId"] = "[unknown]"
    inputs["agent"] = "[secret]"
    inputs["networkDevices"] = ["[unknown]"]
    assert checker.resource_problems(VM, inputs) == []


def test_secret_properties_sent_in_clear_text_are_found(checker: SchemaChecker) -> None:
    apply = stack_plan("dev").by_type("talos:machine/configurationApply:ConfigurationApply")[0]
    inputs = {**apply.inputs, "machineConfigurationInput": "version: v1alpha1\n"}
    (problem,) = checker.resource_problems(apply.type, inputs)
    assert "machineConfigurationInput: the provider marks it secret" in problem


def test_kubernetes_objects_are_checked_through_their_types(checker: SchemaChecker) -> None:
    deployment = named(stack_plan("dev"), "example-site-deployment")
    inputs = copy.deepcopy(deployment.inputs)
    inputs["spec"]["replicas"] = "2"
    inputs["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = ["Always"]
    inputs["kind"] = "StatefulSet"
    problems = {problem.split(": ")[0] for problem in checker.resource_problems(DEPLOYMENT, inputs)}
    assert problems == {
        f"{DEPLOYMENT}.spec.replicas",
        f"{DEPLOYMENT}.spec.template.spec.containers[0].imagePullPolicy",
        f"{DEPLOYMENT}.kind",
    }


def test_either_type_of_a_one_of_is_accepted(checker: SchemaChecker) -> None:
    service = named(stack_plan("dev"), "example-site-service")
    token = service.type
    for target, accepted in ((8080, True), ("http", True), (True, False), ([80], False)):
        inputs = copy.deepcopy(service.inputs)
        inputs["spec"]["ports"][0]["targetPort"] = target
        assert (checker.resource_problems(token, inputs) == []) is accepted, target


def test_custom_resources_need_api_version_kind_and_valid_metadata(checker: SchemaChecker) -> None:
    token = "kubernetes:metallb.io/v1beta1:IPAddressPool"
    pool = {"apiVersion": "metallb.io/v1beta1", "metadata": {"name": "lab-pool", "labels": ["x"]}, "spec": {}}
    problems = {problem.split(": ")[0] for problem in checker.resource_problems(token, pool)}
    assert problems == {f"{token}.kind", f"{token}.metadata.labels"}


def test_provider_inputs_are_checked_as_the_json_their_sdk_sends(checker: SchemaChecker) -> None:
    provider = named(stack_plan("dev"), "kubernetes")
    assert provider.type == K8S_PROVIDER
    assert provider.inputs["enableServerSideApply"] == "true"
    assert checker.resource_problems(K8S_PROVIDER, provider.inputs) == []
    (problem,) = checker.resource_problems(K8S_PROVIDER, {**provider.inputs, "enableServerSideApply": '"yes"'})
    assert problem.startswith(f"{K8S_PROVIDER}.enableServerSideApply: expected boolean")


def test_invoke_arguments_are_checked_against_the_function(checker: SchemaChecker) -> None:
    record = next(r for r in stack_plan("dev").invokes if r.token == MACHINE_CONFIG_INVOKE)
    args = {**record.args, "configPatches": "machine: {}", "docs": "false"}
    del args["clusterName"]
    problems = {problem.split(": ")[0] for problem in checker.invoke_problems(MACHINE_CONFIG_INVOKE, args)}
    assert problems == {f"{MACHINE_CONFIG_INVOKE}.{name}" for name in ("configPatches", "docs", "clusterName")}


def test_tokens_the_schemas_do_not_know_are_reported(checker: SchemaChecker) -> None:
    assert checker.resource_problems("proxmoxve:index/vm:Nope", {}) == [
        "proxmoxve:index/vm:Nope: no such resource in the proxmoxve schema"
    ]
    assert checker.invoke_problems("talos:machine/nope:nope", {}) == [
        "talos:machine/nope:nope: no such function in the talos schema"
    ]
