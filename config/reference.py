"""The configuration reference, generated from the stack config models.

Walks `LabConfig` recursively and writes one Markdown table per section: every
key as the user writes it (`homelab:network.router.wanAddress`; items of a list
of objects as `homelab:cluster.workers[].name`), its type in user terms (from
the constrained types of `config.types` and the Field constraints), its default
(or "required") and its rule (the Field's description). The rules that involve
more than one key (`config.rules.CHECKS`) are summarised in a list below.

    python -m config.reference                    print the reference
    python -m config.reference --write README.md  rewrite the marked section in place
    python -m config.reference --check README.md  exit 1 if the marked section is stale

Pure: the same models give the same bytes.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from config import types as config_types
from config.loading import NAMESPACE
from config.models import LabConfig
from config.rules import CHECKS
from config.versions import SUPPORTED_KUBERNETES_MINORS, SUPPORTED_TALOS_MINORS

START_MARKER = "<!-- config-reference:start -->"
END_MARKER = "<!-- config-reference:end -->"
WRITE_COMMAND = "python -m config.reference --write README.md"


class _Noun(NamedTuple):
    singular: str
    plural: str


def _minors(minors: Sequence[tuple[int, int]], prefix: str) -> str:
    names = [f"{prefix}{major}.{minor}.x" for major, minor in minors]
    return names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"


# The constrained string types of config.types, recognised by their validator
# (the same object lands in a field's metadata, however deeply it is nested).
_NAMED_TYPES: dict[Any, _Noun] = {
    config_types.Ipv4Address: _Noun("IPv4 address", "IPv4 addresses"),
    config_types.Ipv4Network: _Noun("IPv4 CIDR", "IPv4 CIDRs"),
    config_types.Ipv4Interface: _Noun("IPv4 address/prefix", "IPv4 addresses/prefix"),
    config_types.MacAddress: _Noun("MAC address", "MAC addresses"),
    config_types.DnsLabel: _Noun("DNS label", "DNS labels"),
    config_types.DnsName: _Noun("DNS name", "DNS names"),
    config_types.BridgeName: _Noun("Linux bridge name", "Linux bridge names"),
    config_types.SshPublicKey: _Noun("SSH public key line", "SSH public key lines"),
    config_types.TalosVersion: _Noun(
        f"Talos version ({_minors(SUPPORTED_TALOS_MINORS, 'v')})",
        f"Talos versions ({_minors(SUPPORTED_TALOS_MINORS, 'v')})",
    ),
    config_types.ConfigContract: _Noun(
        f"Talos minor ({', '.join(f'v{major}.{minor}' for major, minor in SUPPORTED_TALOS_MINORS)})",
        f"Talos minors ({', '.join(f'v{major}.{minor}' for major, minor in SUPPORTED_TALOS_MINORS)})",
    ),
    config_types.KubernetesVersion: _Noun(
        f"Kubernetes version ({_minors(SUPPORTED_KUBERNETES_MINORS, '')})",
        f"Kubernetes versions ({_minors(SUPPORTED_KUBERNETES_MINORS, '')})",
    ),
}
_MARKERS: list[tuple[object, _Noun]] = [(typing.get_args(alias)[1], noun) for alias, noun in _NAMED_TYPES.items()]

# What each cross-field check of config.rules enforces, by function name. A test
# holds this in step with config.rules.CHECKS.
RULE_SUMMARIES: dict[str, str] = {
    "unique_identities": "Names, LAN addresses (router, guests, `cluster.vip`, `network.hostAddresses`), MACs "
    "(given or derived) and VM ids are unique across the router and every guest.",
    "addresses_on_lan": "Every LAN address (router, guests, `cluster.vip`, `network.hostAddresses`) lies in "
    "`network.cidr` and is neither its network nor its broadcast address.",
    "wan_side": "`network.router.wanGateway` lies in the WAN subnet of `network.router.wanAddress` and is not the "
    "router's own address; `network.cidr` does not overlap the WAN subnet; `network.bridge` is not "
    "`proxmox.wanBridge`.",
    "load_balancer_pool": "`loadBalancer.pool` overlaps none of `network.cidr`, the WAN subnet, `cluster.podCidr` "
    "and `cluster.serviceCidr`; `loadBalancer.ingressAddress` lies in the pool.",
    "cluster_networks": "`cluster.podCidr` and `cluster.serviceCidr` overlap neither `network.cidr` nor each other.",
    "control_plane_quorum": "`cluster.controlPlanes` has an odd count (1, 3 or 5) so etcd keeps quorum; more than "
    "one needs `cluster.vip`.",
    "proxmox_placement": "`proxmox.nodes` has no duplicates; every `proxmoxNode` and every key of "
    "`network.bridgePorts` and `network.hostAddresses` is one of `proxmox.nodes`.",
    "bridges_joined": "When the router and guests run on more than one host, every host in use has "
    "`network.bridgePorts.<host>`, so the lab bridges form one segment.",
    "dynamic_range": "`network.dynamicRange`, when set, lies in `network.cidr`, starts no later than it ends and "
    "contains no address given to the router, a guest, the VIP or a host.",
}


@dataclass(frozen=True)
class Row:
    """One key of the reference, as the user writes it."""

    key: str  # e.g. "homelab:cluster.workers[].name"
    type: str
    default: str
    rule: str


@dataclass(frozen=True)
class Section:
    key: str  # e.g. "homelab:network"
    description: str
    rows: tuple[Row, ...]


def sections() -> list[Section]:
    """One section per top-level key: objects first (in model order), then plain keys."""
    fields = list(LabConfig.model_fields.items())
    objects = [(name, info) for name, info in fields if _model_of(info.annotation) is not None]
    plain = [(name, info) for name, info in fields if _model_of(info.annotation) is None]
    result: list[Section] = []
    for name, info in [*objects, *plain]:
        key = f"{NAMESPACE}:{_alias(name, info)}"
        rows = tuple(_rows(key, info, top_level=True))
        result.append(Section(key=key, description=info.description or "", rows=rows))
    return result


def render() -> str:
    """The whole reference as Markdown (no trailing blank line)."""
    lines = [
        f"<!-- Generated from config/models.py by `{WRITE_COMMAND}`: edit the models, not this section. -->",
        "",
        "Keys are paths into the stack config, as `pulumi config set --path` takes them: "
        "`homelab:network.router.wanAddress` is `wanAddress` inside `router` inside the `homelab:network` object; "
        "`[]` stands for every item of a list. Keys not listed here are rejected. Sizes are integers "
        '(`memoryMiB: 4096`, not `"4096"`), addresses and CIDRs are strings.',
    ]
    for section in sections():
        lines += ["", f"### `{section.key}`", ""]
        # A plain key's description is in its own row.
        if section.description and section.rows[0].key != section.key:
            lines += [section.description, ""]
        lines += ["| key | type | default | rule |", "|---|---|---|---|"]
        lines += [
            f"| `{row.key}` | {_cell(row.type)} | {_cell(row.default)} | {_cell(row.rule)} |" for row in section.rows
        ]
    lines += ["", "### Rules across keys", ""]
    lines += [f"- {RULE_SUMMARIES[check.__name__]}" for check in CHECKS]
    lines += [
        "",
        "Every problem is reported at once, one line each, naming the key by its path "
        "(`cluster.workers[1].address: 192.168.2.9 is outside network.cidr 192.168.1.0/24`); nothing is created.",
    ]
    return "\n".join(lines)


# --- the README section --------------------------------------------------------


class MarkersError(ValueError):
    """The text has no well-formed pair of config-reference markers."""


def update_readme(readme_text: str) -> str:
    """The README with everything between the markers replaced by the reference."""
    start = readme_text.find(START_MARKER)
    end = readme_text.find(END_MARKER)
    if start < 0 or end < 0:
        raise MarkersError(f"has no config-reference markers ({START_MARKER} ... {END_MARKER})")
    if end < start or readme_text.count(START_MARKER) != 1 or readme_text.count(END_MARKER) != 1:
        raise MarkersError(f"needs exactly one {START_MARKER} followed by one {END_MARKER}")
    head = readme_text[: start + len(START_MARKER)]
    tail = readme_text[end:]
    return f"{head}\n{render()}\n{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m config.reference", description="The configuration reference, from the stack config models."
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="README", help="rewrite the marked section of this file")
    action.add_argument("--check", type=Path, metavar="README", help="exit 1 if the marked section is out of date")
    args = parser.parse_args(argv)
    path: Path | None = args.write or args.check
    if path is None:
        sys.stdout.write(render() + "\n")
        return 0
    if not path.is_file():
        print(f"{path} does not exist: it needs the config-reference markers", file=sys.stderr)
        return 1
    text = path.read_text(encoding="utf-8")
    try:
        updated = update_readme(text)
    except MarkersError as error:
        print(f"{path.name} {error}", file=sys.stderr)
        return 1
    if args.write is not None:
        if updated != text:
            path.write_text(updated, encoding="utf-8")
        return 0
    if updated != text:
        print(
            f"{path.name}: the configuration reference is out of date; run `{WRITE_COMMAND}`",
            file=sys.stderr,
        )
        return 1
    return 0


# --- walking the models --------------------------------------------------------


def _alias(name: str, info: FieldInfo) -> str:
    return info.alias or name


def _ordered_fields(model: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """Required keys first, then optional ones, each in model order."""
    fields = list(model.model_fields.items())
    return [item for item in fields if item[1].is_required()] + [item for item in fields if not item[1].is_required()]


def _rows(key: str, info: FieldInfo, *, top_level: bool = False) -> Iterator[Row]:
    annotation = info.annotation
    metadata = list(info.metadata)
    model = _model_of(annotation)
    item_model = _list_item_model(annotation)
    if not top_level or model is None:
        yield Row(key, _type_text(annotation, metadata), _default_text(info), info.description or "")
    if model is not None:
        for name, child in _ordered_fields(model):
            yield from _rows(f"{key}.{_alias(name, child)}", child)
    elif item_model is not None:
        for name, child in _ordered_fields(item_model):
            yield from _rows(f"{key}[].{_alias(name, child)}", child)


def _strip_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return annotation


def _model_of(annotation: Any) -> type[BaseModel] | None:
    inner = _strip_optional(annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return inner
    return None


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    inner = _strip_optional(annotation)
    if typing.get_origin(inner) is list:
        return _model_of(typing.get_args(inner)[0])
    return None


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    """The bare type and all its constraints, through Annotated and nested FieldInfo."""
    annotation = _strip_optional(annotation)
    while typing.get_origin(annotation) is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        annotation, metadata = _strip_optional(base), [*extra, *metadata]
    flat: list[Any] = []
    for item in metadata:
        flat += item.metadata if isinstance(item, FieldInfo) else [item]
    return annotation, flat


def _type_text(annotation: Any, metadata: list[Any], *, plural: bool = False) -> str:
    base, constraints = _unwrap(annotation, metadata)
    for marker, noun in _MARKERS:
        if any(item is marker for item in constraints):
            return noun.plural if plural else noun.singular
    if typing.get_origin(base) in (list, dict):
        return _collection_text(base, constraints)
    return _scalar_text(base, constraints, plural=plural)


def _collection_text(base: Any, constraints: list[Any]) -> str:
    if typing.get_origin(base) is dict:
        key, value = typing.get_args(base)
        return f"map of {_map_key_text(key)} → {_type_text(value, [])}"
    (item,) = typing.get_args(base)
    text = f"list of {_type_text(item, [], plural=True)}"
    least = _bound(constraints, annotated_types.MinLen, "min_length")
    return f"{text}, at least {least}" if least else text


def _scalar_text(base: Any, constraints: list[Any], *, plural: bool) -> str:
    if isinstance(base, type) and issubclass(base, BaseModel):
        return "objects (keys below)" if plural else "object (keys below)"
    if base is int:
        return _integer_text(constraints, plural=plural)
    if base is str:
        return _string_text(constraints, plural=plural)
    raise TypeError(f"no user-facing name for the type {base!r}: teach config.reference about it")


def _map_key_text(annotation: Any) -> str:
    # The config's maps are keyed by Proxmox host (checked against proxmox.nodes).
    base, constraints = _unwrap(annotation, [])
    dns_label = typing.get_args(config_types.DnsLabel)[1]
    if base is str and any(item is dns_label for item in constraints):
        return "host"
    return _type_text(annotation, [])


def _bound(constraints: list[Any], kind: type, attribute: str) -> Any:
    return next((getattr(item, attribute) for item in constraints if isinstance(item, kind)), None)


def _integer_text(constraints: list[Any], *, plural: bool) -> str:
    noun = "integers" if plural else "integer"
    low = _bound(constraints, annotated_types.Ge, "ge")
    high = _bound(constraints, annotated_types.Le, "le")
    if low is not None and high is not None:
        return f"{noun} {low:,}–{high:,}"  # noqa: RUF001 (a range, as in print)
    if low is not None:
        return f"{noun} ≥ {low:,}"
    if high is not None:
        return f"{noun} ≤ {high:,}"
    return noun


def _string_text(constraints: list[Any], *, plural: bool) -> str:
    noun = "strings" if plural else "string"
    pattern = next((getattr(item, "pattern", None) for item in constraints if getattr(item, "pattern", None)), None)
    if pattern is not None:
        return f"{noun} matching `{pattern}`"
    least = _bound(constraints, annotated_types.MinLen, "min_length")
    if least == 1:
        return f"non-empty {noun}"
    return noun


def _default_text(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    value: Any = info.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, BaseModel):
        return "defaults below"
    return f"`{_yaml_text(value)}`"


def _yaml_text(value: Any) -> str:
    """A default as it would be written in the stack file (flow style)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_text(k)}: {_yaml_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str | int | ipaddress.IPv4Address | ipaddress.IPv4Network | ipaddress.IPv4Interface):
        return str(value)
    raise TypeError(f"no stack-file spelling for the default {value!r}")


def _cell(text: str) -> str:
    """Table-cell safe: no pipes or line breaks to break the row."""
    return text.replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    sys.exit(main())
