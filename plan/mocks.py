"""Deterministic, realistic stand-ins for every resource and invoke the program uses.

Outputs echo the inputs (as a provider would) plus the computed fields the
program reads. Identifiers are derived from names, so two runs agree byte for byte.
"""

from __future__ import annotations

import datetime
import hashlib
import posixpath
from collections.abc import Callable
from typing import Any

import yaml
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

Outputs = dict[str, Any]
# In every value a provider computes and no plan can know (certificates, keys, tokens, configs), as is
# and base64-encoded, so that what the plan shows never passes a stand-in off as the lab's own.
MOCK_MARK = "MOCK"
_MOCK_MARK_BASE64 = "TU9DSw=="
_MOCK_START = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
_RFC3339 = "%Y-%m-%dT%H:%M:%SZ"


def _digest(*parts: object, length: int = 64) -> str:
    return hashlib.sha256("/".join(str(part) for part in parts).encode()).hexdigest()[:length]


def _pem(kind: str, seed: str) -> str:
    return f"-----BEGIN {kind}-----\n{MOCK_MARK}{_digest(kind, seed)}\n-----END {kind}-----\n"


def _private_key(args: MockResourceArgs) -> tuple[str, Outputs]:
    seed = _digest(args.name)
    return seed[:16], {
        **args.inputs,
        "privateKeyOpenssh": _pem("OPENSSH PRIVATE KEY", seed),
        "privateKeyPem": _pem("PRIVATE KEY", seed),
        "publicKeyOpenssh": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA{seed[:40]} homelab-management\n",
        "publicKeyFingerprintSha256": f"SHA256:{seed[:43]}",
    }


def _certificate(args: MockResourceArgs) -> tuple[str, Outputs]:
    """Self-signed and locally signed certificates: a PEM, and a validity as the provider reports it."""
    seed = _digest(args.typ, args.name)
    end = _MOCK_START + datetime.timedelta(hours=float(args.inputs["validityPeriodHours"]))
    return seed[:16], {
        **args.inputs,
        "certPem": _pem("CERTIFICATE", seed),
        "validityStartTime": _MOCK_START.strftime(_RFC3339),
        "validityEndTime": end.strftime(_RFC3339),
        "readyForRenewal": False,
    }


def _cert_request(args: MockResourceArgs) -> tuple[str, Outputs]:
    return _digest(args.name, length=16), {**args.inputs, "certRequestPem": _pem("CERTIFICATE REQUEST", args.name)}


def _download(args: MockResourceArgs) -> tuple[str, Outputs]:
    inputs = args.inputs
    file_name = inputs.get("fileName") or posixpath.basename(str(inputs["url"]))
    volume = f"{inputs['datastoreId']}:{inputs['contentType']}/{file_name}"
    return volume, {**inputs, "fileName": file_name, "size": 104_857_600}


def _bridge(args: MockResourceArgs) -> tuple[str, Outputs]:
    return f"{args.inputs['nodeName']}:{args.inputs['name']}", dict(args.inputs)


def _guest(args: MockResourceArgs) -> tuple[str, Outputs]:
    return str(int(args.inputs["vmId"])), dict(args.inputs)


class _FactoryYaml(yaml.SafeDumper):
    """YAML as the image factory marshals a schematic (Go yaml.v3): 4 spaces, list items indented."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def schematic_id(schematic: str) -> str:
    """The id the image factory gives a schematic: the SHA-256 of its canonical YAML, so the plan's is the real
    one (the qemu-guest-agent schematic is the factory's well-known `ce4c9805...`)."""
    canonical = yaml.dump(yaml.safe_load(schematic), Dumper=_FactoryYaml, indent=4, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _schematic(args: MockResourceArgs) -> tuple[str, Outputs]:
    return schematic_id(args.inputs.get("schematic", "")), dict(args.inputs)


def _talos_secrets(args: MockResourceArgs) -> tuple[str, Outputs]:
    def pair(name: str) -> dict[str, str]:
        return {"cert": _pem("CERTIFICATE", name), "key": _pem("PRIVATE KEY", name)}

    machine_secrets = {
        "certs": {
            "etcd": pair("etcd"),
            "k8s": pair("k8s"),
            "k8sAggregator": pair("k8s-aggregator"),
            "k8sServiceaccount": {"key": _pem("PRIVATE KEY", "sa")},
            "os": pair("os"),
        },
        "cluster": {"id": _digest("cluster-id", length=43), "secret": _digest("cluster-secret", length=43)},
        "secrets": {
            "bootstrapToken": f"{_digest('bt', length=6)}.{_digest('bt2', length=16)}",
            "secretboxEncryptionSecret": _digest("secretbox", length=43),
        },
        "trustdinfo": {"token": f"{_digest('td', length=6)}.{_digest('td2', length=16)}"},
    }
    client_configuration = {
        "caCertificate": _pem("CERTIFICATE", "os"),
        "clientCertificate": _pem("CERTIFICATE", "admin"),
        "clientKey": _pem("PRIVATE KEY", "admin"),
    }
    return args.name, {
        **args.inputs,
        "machineSecrets": machine_secrets,
        "clientConfiguration": client_configuration,
    }


def _kubeconfig(args: MockResourceArgs) -> tuple[str, Outputs]:
    node = args.inputs.get("endpoint") or args.inputs["node"]
    raw = (
        "apiVersion: v1\nkind: Config\nclusters:\n- name: homelab\n  cluster:\n"
        f"    server: https://{node}:6443\n    certificate-authority-data: {_MOCK_MARK_BASE64}\n"
        "contexts:\n- name: admin@homelab\n  context: {cluster: homelab, user: admin@homelab}\n"
        "current-context: admin@homelab\nusers:\n- name: admin@homelab\n"
        f"  user: {{client-certificate-data: {_MOCK_MARK_BASE64}, client-key-data: {_MOCK_MARK_BASE64}}}\n"
    )
    return args.name, {
        **args.inputs,
        "kubeconfigRaw": raw,
        "kubernetesClientConfiguration": {"host": f"https://{node}:6443"},
    }


def _api_token(args: MockResourceArgs) -> tuple[str, Outputs]:
    """A Proxmox API token: its id `<user>!<name>`, its value `<id>=<secret>` (bpg proxmox/access/user_token.go)."""
    token_id = f"{args.inputs['userId']}!{args.inputs['tokenName']}"
    secret = _digest("api-token", token_id, length=32)
    uuid = "-".join((secret[:8], secret[8:12], secret[12:16], secret[16:20], secret[20:32]))
    return token_id, {**args.inputs, "value": f"{token_id}={uuid}"}


def _echo(args: MockResourceArgs) -> tuple[str, Outputs]:
    return _digest(args.typ, args.name, length=16), dict(args.inputs)


RESOURCES: dict[str, Callable[[MockResourceArgs], tuple[str, Outputs]]] = {
    "tls:index/privateKey:PrivateKey": _private_key,
    "tls:index/selfSignedCert:SelfSignedCert": _certificate,
    "tls:index/locallySignedCert:LocallySignedCert": _certificate,
    "tls:index/certRequest:CertRequest": _cert_request,
    "proxmoxve:download/file:File": _download,
    "proxmoxve:network/linux/bridge:Bridge": _bridge,
    "proxmoxve:index/vmLegacy:VmLegacy": _guest,
    "proxmoxve:index/containerLegacy:ContainerLegacy": _guest,
    "proxmoxve:user/token:Token": _api_token,
    "talos:imageFactory/schematic:Schematic": _schematic,
    "talos:machine/secrets:Secrets": _talos_secrets,
    "talos:cluster/kubeconfig:Kubeconfig": _kubeconfig,
}


def _image_urls(args: dict[str, Any]) -> Outputs:
    schematic, version = args["schematicId"], args["talosVersion"]
    platform, arch = args.get("platform", "metal"), args.get("architecture", "amd64")
    base = f"https://factory.talos.dev/image/{schematic}/{version}"
    return {
        **args,
        "urls": {
            "installer": f"factory.talos.dev/{platform}-installer/{schematic}:{version}",
            "installerSecureboot": f"factory.talos.dev/{platform}-installer-secureboot/{schematic}:{version}",
            "iso": f"{base}/{platform}-{arch}.iso",
            "isoSecureboot": f"{base}/{platform}-{arch}-secureboot.iso",
            "diskImage": f"{base}/{platform}-{arch}.raw.xz",
            "diskImageSecureboot": f"{base}/{platform}-{arch}-secureboot.raw.xz",
            "kernel": f"{base}/kernel-{arch}",
            "kernelCommandLine": f"{base}/cmdline-{platform}-{arch}",
            "initramfs": f"{base}/initramfs-{arch}.xz",
            "uki": f"{base}/{platform}-{arch}-secureboot-uki.efi",
        },
    }


def _machine_configuration(args: dict[str, Any]) -> Outputs:
    # Everything the provider builds the config from, so a change of any of them changes the config.
    seed = _digest(*(args.get(key) for key in _MACHINE_CONFIGURATION_INPUTS))
    text = f"version: v1alpha1\nmachine:\n  type: {args.get('machineType')}\n  token: {MOCK_MARK}{seed[:16]}\n"
    return {**args, "machineConfiguration": text}


def _talos_config(args: dict[str, Any]) -> Outputs:
    endpoints = ", ".join(args.get("endpoints", []))
    nodes = ", ".join(args.get("nodes", []))
    name = args.get("clusterName", "homelab")
    text = (
        f"context: {name}\ncontexts:\n  {name}:\n    endpoints: [{endpoints}]\n    nodes: [{nodes}]\n"
        f"    ca: {_MOCK_MARK_BASE64}\n"
    )
    return {**args, "talosConfig": text}


_MACHINE_CONFIGURATION_INPUTS = (
    "clusterName",
    "clusterEndpoint",
    "machineType",
    "talosVersion",
    "kubernetesVersion",
    "configPatches",
)


CALLS: dict[str, Callable[[dict[str, Any]], Outputs]] = {
    "talos:imageFactory/getUrls:getUrls": _image_urls,
    "talos:machine/getConfiguration:getConfiguration": _machine_configuration,
    "talos:client/getConfiguration:getConfiguration": _talos_config,
}


STACK_REFERENCE = "pulumi:pulumi:StackReference"


class LabMocks(Mocks):
    """The stand-ins; `made_up` collects the text they invented that no plan can know (it carries the mark)."""

    def __init__(self, previous: Outputs | None = None) -> None:
        self.previous = previous
        self.made_up: set[str] = set()

    def new_resource(self, args: MockResourceArgs) -> tuple[str, Outputs]:
        if args.typ == STACK_REFERENCE:
            # The program reading its own stack: the outputs of the last `up` (none before the first).
            return str(args.resource_id), {"name": args.resource_id, "outputs": self.previous or {}}
        resource_id, outputs = RESOURCES.get(args.typ, _echo)(args)
        self.made_up.update(_invented(outputs, args.inputs))
        return resource_id, outputs

    def call(self, args: MockCallArgs) -> tuple[Outputs, list[tuple[str, str]]]:
        handler = CALLS.get(args.token)
        outputs = handler(args.args) if handler else dict(args.args)
        self.made_up.update(_invented(outputs, args.args))
        return outputs, []


def _invented(outputs: Any, inputs: Any) -> list[str]:
    """The marked text in `outputs` that is not an echo of the same place in `inputs`."""
    if outputs == inputs:
        return []
    if isinstance(outputs, dict):
        given: dict[str, Any] = inputs if isinstance(inputs, dict) else {}
        return [text for key, value in outputs.items() for text in _invented(value, given.get(key))]
    if isinstance(outputs, list):
        given_items: list[Any] = inputs if isinstance(inputs, list) and len(inputs) == len(outputs) else []
        pairs = zip(outputs, given_items or [None] * len(outputs), strict=True)
        return [text for value, given_item in pairs for text in _invented(value, given_item)]
    marked = isinstance(outputs, str) and (MOCK_MARK in outputs or _MOCK_MARK_BASE64 in outputs)
    return [outputs] if marked else []
