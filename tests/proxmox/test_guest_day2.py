"""What keeps the next `pulumi up` on a running lab safe on the Proxmox side (DESIGN §3, day-2 contract)."""

from __future__ import annotations

import posixpath

import pytest

from config.guests import client_guest
from config.loading import parse_lab_config
from config.models import DEBIAN_TEMPLATE_SHA512, DEBIAN_TEMPLATE_URL
from plan.run import run_plan
from tests.support import APPLY, CONTAINER, DOWNLOAD, STACK_NAMES, VM, named, stack_config, stack_plan


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_guests_are_deleted_before_they_are_replaced(stack: str) -> None:
    """A fixed VM id: Proxmox refuses a replacement created next to the old guest."""
    plan = stack_plan(stack)
    guests = [*plan.by_type(VM), *plan.by_type(CONTAINER)]
    assert len(guests) == len(plan.by_type(VM)) + 2
    for guest in guests:
        assert guest.options.delete_before_replace, guest.name


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_what_configures_a_guest_is_replaced_with_it(stack: str) -> None:
    config, plan = stack_config(stack), stack_plan(stack)
    router = named(plan, "router-container").urn
    assert named(plan, "router-configure").options.replace_with == [router]
    client = client_guest(config).key
    container = named(plan, f"{client}-container").urn
    for step in ("tools", "talosconfig", "kubeconfig"):
        assert named(plan, f"{client}-{step}").options.replace_with == [container], step
    vms = {f"vm-{int(vm.inputs['vmId'])}": vm.urn for vm in plan.by_type(VM)}
    applies = plan.by_type(APPLY)
    assert len(applies) == len(vms)
    for apply in applies:
        node = apply.name.removeprefix("cluster-").removesuffix("-apply")
        assert apply.options.replace_with == [vms[node]], apply.name


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_guest_tags_are_sorted_and_unique(stack: str) -> None:
    """Proxmox stores tags sorted and de-duplicated; any other list is a change on every run."""
    plan = stack_plan(stack)
    for guest in [*plan.by_type(VM), *plan.by_type(CONTAINER)]:
        tags = guest.inputs["tags"]
        assert tags == sorted(set(tags)), guest.name


def test_the_router_tags_the_default_cluster_name_once() -> None:
    plan = stack_plan("dev")
    assert plan.config.cluster.name == "homelab"
    assert named(plan, "router-container").inputs["tags"] == ["homelab", "router"]


@pytest.mark.parametrize("stack", STACK_NAMES)
def test_vms_keep_the_agent_but_do_not_wait_for_its_addresses(stack: str) -> None:
    for vm in stack_plan(stack).by_type(VM):
        agent = vm.inputs["agent"]
        assert agent["enabled"] is True
        assert agent["waitForIp"] == {"disabled": True}, vm.name
        assert agent["timeout"] == "2m"


def test_the_template_is_the_current_point_release_under_its_own_name() -> None:
    plan = stack_plan("dev")
    (template,) = [d for d in plan.by_type(DOWNLOAD) if d.inputs["contentType"] == "vztmpl"]
    assert template.inputs["url"] == DEBIAN_TEMPLATE_URL
    assert "debian-12-standard_12.12-1_amd64" in DEBIAN_TEMPLATE_URL
    assert (template.inputs["checksum"], template.inputs["checksumAlgorithm"]) == (DEBIAN_TEMPLATE_SHA512, "sha512")
    # Never the name `pveam download` gives the same file, so a copy the user fetched is left alone, and a
    # leftover of ours is downloaded again instead of failing with "already exists".
    assert template.inputs["fileName"] == f"homelab-{posixpath.basename(DEBIAN_TEMPLATE_URL)}"
    assert template.inputs["overwriteUnmanaged"] is True
    for container in plan.by_type(CONTAINER):
        assert container.inputs["operatingSystem"]["templateFileId"].endswith(template.inputs["fileName"])


def test_the_template_url_and_checksum_are_configurable() -> None:
    raw = stack_config("dev").model_dump(by_alias=True, mode="json", exclude_none=True)
    url = "https://mirror.example.net/pve/debian-13-standard_13.1-2_amd64.tar.zst"
    raw["proxmox"]["containerTemplate"] = {"url": url, "sha512": "ab" * 64}
    plan = run_plan(parse_lab_config(raw), "template")
    (template,) = [d for d in plan.by_type(DOWNLOAD) if d.inputs["contentType"] == "vztmpl"]
    assert (template.inputs["url"], template.inputs["checksum"]) == (url, "ab" * 64)
    assert template.inputs["fileName"] == "homelab-debian-13-standard_13.1-2_amd64.tar.zst"
