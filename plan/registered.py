"""The plan's files, read back from what the program registered and invoked (DESIGN §6).

Nothing here renders: the router's files come from the script its `remote.Command`
pushes, a node's Talos patches from the arguments of its `getConfiguration` invoke,
Helm values and manifests from the registered inputs.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from plan.monitor import InvokeRecord, Registration

COMMAND = "command:remote:Command"
MACHINE_CONFIGURATION = "talos:machine/getConfiguration:getConfiguration"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
KUBERNETES_PREFIX = "kubernetes:"
ROUTER_COMPONENT = "Router"
ROUTER_FILES = ("dnsmasq.conf", "nftables.nft", "network.json")
SETUP_SCRIPT = "setup.sh"
CLIENT_LIFECYCLE_COMPONENT = "ClientLifecycle"
LIFECYCLE_SCRIPT = "lifecycle.sh"
_NOT_OBJECTS = (HELM_RELEASE, "pulumi:providers:kubernetes")
_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader  # the same documents, faster
_DROPPED_INPUTS = {"__defaults"}

# `cat >TARGET <<'DELIMITER'` ... `DELIMITER`: a quoted delimiter, so the body is taken literally.
_HEREDOC = re.compile(r"^cat >(?P<target>\S+) <<'(?P<delimiter>\w+)'\n(?P<body>.*?)^(?P=delimiter)\n", re.M | re.S)


class RecordError(Exception):
    """What was registered does not hold a file the plan must write."""


def router_files(registrations: list[Registration]) -> dict[str, str]:
    """setup.sh as pushed to the router, and the files it embeds, by file name."""
    script = router_setup_script(registrations)
    embedded = embedded_files(script)
    missing = [name for name in ROUTER_FILES if name not in embedded]
    if missing:
        raise RecordError(f"the router's setup script embeds no {', '.join(missing)}")
    return {SETUP_SCRIPT: script} | {name: embedded[name] for name in ROUTER_FILES}


def router_setup_script(registrations: list[Registration]) -> str:
    """The stdin of the command the Router component runs on its container."""
    scripts = _component_scripts(registrations, ROUTER_COMPONENT)
    if len(scripts) != 1:
        raise RecordError(f"expected one script pushed to the router, found {len(scripts)}")
    return scripts[0]


def client_files(registrations: list[Registration]) -> dict[str, str]:
    """The client's timers and the scripts they run, by file name, as its install script writes them."""
    scripts = [s for s in _component_scripts(registrations, CLIENT_LIFECYCLE_COMPONENT) if s.startswith("#!")]
    if len(scripts) != 1:
        raise RecordError(f"expected one timer install script pushed to the client, found {len(scripts)}")
    return {LIFECYCLE_SCRIPT: scripts[0]} | embedded_files(scripts[0])


def _component_scripts(registrations: list[Registration], component: str) -> list[str]:
    by_urn = {r.urn: r for r in registrations}
    return [
        str(r.inputs["stdin"])
        for r in registrations
        if r.type == COMMAND and "stdin" in r.inputs and _component_name(by_urn.get(r.parent)) == component
    ]


def _component_name(registration: Registration | None) -> str:
    return registration.type.rsplit(":", 1)[-1] if registration else ""


def embedded_files(script: str) -> dict[str, str]:
    """The files a shell script writes with quoted heredocs, by the file name of their target."""
    files: dict[str, str] = {}
    for match in _HEREDOC.finditer(script):
        name = match["target"].strip("\"'").rsplit("/", 1)[-1]
        if name in files:
            raise RecordError(f"the script writes {name} twice")
        files[name] = match["body"]
    return files


def talos_patches(invokes: list[InvokeRecord]) -> dict[str, list[str]]:
    """Each node's config patches as given to its `getConfiguration` invoke, by the hostname they set."""
    patches: dict[str, list[str]] = {}
    for record in invokes:
        if record.token == MACHINE_CONFIGURATION:
            given = [str(patch) for patch in record.args.get("configPatches", [])]
            node = _hostname(given)
            if node in patches:
                raise RecordError(f"two machine configurations for {node}")
            patches[node] = given
    return dict(sorted(patches.items()))


def _hostname(patches: list[str]) -> str:
    """The static hostname a node's HostnameConfig patch sets: the node's name."""
    for patch in patches:
        if "HostnameConfig" not in patch:
            continue
        document = yaml.load(patch, Loader=_LOADER)
        if isinstance(document, dict) and document.get("kind") == "HostnameConfig" and "hostname" in document:
            return str(document["hostname"])
    raise RecordError("a machine configuration without a HostnameConfig patch")


def helm_values(registrations: list[Registration]) -> dict[str, Any]:
    """The values given to each Helm release, by release name."""
    return {str(r.inputs["name"]): r.inputs.get("values", {}) for r in registrations if r.type == HELM_RELEASE}


def kubernetes_manifests(registrations: list[Registration]) -> list[dict[str, Any]]:
    """Every Kubernetes object the program creates directly, as the manifest the API server receives."""
    objects = [r for r in registrations if r.type.startswith(KUBERNETES_PREFIX) and r.type not in _NOT_OBJECTS]
    return [_manifest(r.inputs) for r in objects]


def _manifest(inputs: dict[str, Any]) -> dict[str, Any]:
    """A registered Kubernetes object's inputs, apiVersion, kind and metadata first."""
    head = {"apiVersion": inputs["apiVersion"], "kind": inputs["kind"], "metadata": inputs["metadata"]}
    rest = {k: v for k, v in inputs.items() if k not in head and k not in _DROPPED_INPUTS}
    return head | rest
