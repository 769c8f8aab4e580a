"""The lab, built once per stack for the tests of this folder, and always torn down."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from config.loading import load_stack_file
from tests.network.build import build_lab
from tests.network.inputs import STACKS, plan_files
from tests.network.lab import Lab
from tests.network.netns import Namespaces
from tests.network.tools import require_root, require_tools

TOOLS = ("ip", "ss", "nft", "dnsmasq", "dhclient", "curl", "unshare", "sysctl", "conntrack", "ping")


@pytest.fixture(scope="session", params=list(STACKS))
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_root("the lab is built from network namespaces, veth links and bridges")
    require_tools(*TOOLS)
    stack: str = request.param
    config = load_stack_file(STACKS[stack])
    workdir = tmp_path_factory.mktemp(f"lab-{stack}")
    plan = plan_files(stack, STACKS[stack], workdir / "plan", config)
    namespaces = Namespaces(f"hl{os.getpid()}-{list(STACKS).index(stack)}", workdir)
    try:
        yield build_lab(stack, config, plan, namespaces)
    finally:
        namespaces.close()
