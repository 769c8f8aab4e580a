"""The configuration reference, rendered from the stack file's JSON schema.

One Markdown table per section: every key as the user writes it
(`homelab:network.router.wanAddress`; items of a list of objects as
`homelab:cluster.workers[].name`), its type (the title the type carries in the
schema, with the schema's bounds), its default (or "required") and its rule (the
field's description). Then the types (title and description, from the schema)
and the rules across keys (each check's docstring in config.rules). One source
for each: the models, the types, the checks.

    python -m config.reference                                print the reference
    python -m config.reference --write docs/configuration.md  rewrite the marked section in place
    python -m config.reference --check docs/configuration.md  exit 1 if the marked section is stale
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import TypeAdapter

from config.rules import CHECKS
from config.schema import NAMESPACE, lab_schema
from config.types import SCHEMA_TYPES

START_MARKER = "<!-- config-reference:start -->"
END_MARKER = "<!-- config-reference:end -->"
DOCUMENT = "docs/configuration.md"
WRITE_COMMAND = f"python -m config.reference --write {DOCUMENT}"


class Row(NamedTuple):
    key: str  # e.g. "homelab:cluster.workers[].name"
    type: str
    default: str
    rule: str


class Section(NamedTuple):
    key: str  # e.g. "homelab:network"
    description: str
    rows: tuple[Row, ...]


class _Schema:
    """The lab schema with its `$ref`s and `anyOf: [X, null]` looked through."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.defs: dict[str, Any] = schema["$defs"]
        self.root = schema

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        options = [option for option in node.get("anyOf", [node]) if option.get("type") != "null"]
        inner = options[0]
        if "$ref" in inner:
            return self.defs[inner["$ref"].rsplit("/", 1)[1]]
        return inner

    def is_object(self, node: dict[str, Any]) -> bool:
        return "properties" in self.resolve(node)


def sections() -> list[Section]:
    """One section per top-level key: objects first (in model order), then plain keys."""
    schema = _Schema(lab_schema())
    fields = list(schema.root["properties"].items())
    ordered = [item for item in fields if schema.is_object(item[1])] + [
        item for item in fields if not schema.is_object(item[1])
    ]
    result: list[Section] = []
    for name, node in ordered:
        key = f"{NAMESPACE}:{name}"
        resolved = schema.resolve(node)
        description = node.get("description") or resolved.get("description", "")
        if schema.is_object(node):
            rows = tuple(_rows(schema, key, resolved))
        else:
            rows = (_row(schema, key, node, required=name in schema.root["required"]),)
        result.append(Section(key, description, rows))
    return result


def _rows(schema: _Schema, prefix: str, model: dict[str, Any]) -> Iterator[Row]:
    """Required keys first, then optional ones, each in model order; nested objects after their row."""
    required = model.get("required", [])
    names = [name for name in model["properties"] if name in required]
    names += [name for name in model["properties"] if name not in required]
    for name in names:
        node = model["properties"][name]
        key = f"{prefix}.{name}"
        yield _row(schema, key, node, required=name in required)
        resolved = schema.resolve(node)
        if "properties" in resolved:
            yield from _rows(schema, key, resolved)
        elif resolved.get("type") == "array" and schema.is_object(resolved["items"]):
            yield from _rows(schema, f"{key}[]", schema.resolve(resolved["items"]))


def _row(schema: _Schema, key: str, node: dict[str, Any], *, required: bool) -> Row:
    resolved = schema.resolve(node)
    description = node.get("description") or resolved.get("description", "")
    return Row(key, _type_text(schema, node), _default_text(schema, node, required=required), description)


def _type_text(schema: _Schema, node: dict[str, Any]) -> str:
    resolved = schema.resolve(node)
    kind = resolved.get("type")
    if "properties" in resolved:
        return "object (keys below)"
    if kind == "array":
        return f"list of {_type_text(schema, resolved['items'])}{_count(resolved, 'Items', 'entries')}"
    if kind == "object":
        (value,) = resolved["patternProperties"].values()
        return f"map of host → ({_type_text(schema, value)}){_count(resolved, 'Properties', 'hosts')}"
    if kind == "integer":
        return f"integer {resolved['minimum']:,}–{resolved['maximum']:,}"  # noqa: RUF001 (a range, as in print)
    # pydantic leaves the title out of a map's value schema: the description names the type too.
    by_description = {text: title for title, text in types().items()}
    return str(resolved.get("title") or by_description.get(resolved.get("description", ""), kind))


def _count(node: dict[str, Any], what: str, noun: str) -> str:
    low, high = node.get(f"min{what}"), node.get(f"max{what}")
    if low is not None and high is not None:
        return f", {low} to {high} {noun}"
    return f", at most {high} {noun}" if high is not None else ""


def _default_text(schema: _Schema, node: dict[str, Any], *, required: bool) -> str:
    if required:
        return "required"
    value = node.get("default")
    if value is None:
        return "unset"
    if value == {} and schema.is_object(node):
        return "defaults below"
    return f"`{_flow(value)}`"


def _flow(value: Any) -> str:
    """A default as it would be written in the stack file (YAML flow style)."""
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    return value if isinstance(value, str) else json.dumps(value)


def types() -> dict[str, str]:
    """Every type of config.types: its title and what it accepts (the same text the schema carries)."""
    schemas = [TypeAdapter(kind).json_schema() for kind in SCHEMA_TYPES]
    return {schema["title"]: schema["description"] for schema in schemas}


def rule_summaries() -> list[str]:
    """What each cross-field check enforces: its docstring, on one line."""
    return [" ".join(inspect.getdoc(check).split()) for check in CHECKS]  # type: ignore[union-attr]


@functools.cache  # pure: the models, the types and the checks do not change in a process
def render() -> str:
    """The whole reference as Markdown (no trailing blank line)."""
    lines = [
        f"<!-- Generated from the models by `{WRITE_COMMAND}`: edit config/, not this section. -->",
        "",
        "Keys are paths into the stack config, as `pulumi config set --path` takes them: "
        "`homelab:network.router.wanAddress` is `wanAddress` inside `router` inside the `homelab:network` object; "
        "`[]` stands for every item of a list. Keys not listed here are rejected. Sizes are integers "
        '(`memoryMiB: 4096`, not `"4096"`), addresses and CIDRs are strings.',
    ]
    for section in sections():
        lines += ["", f"### `{section.key}`", ""]
        if section.description and section.rows[0].key != section.key:
            lines += [section.description, ""]
        lines += ["| key | type | default | rule |", "|---|---|---|---|"]
        lines += [f"| `{r.key}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.rule)} |" for r in section.rows]
    lines += ["", "### Types", "", "| type | what it accepts |", "|---|---|"]
    lines += [f"| {_cell(title)} | {_cell(text)} |" for title, text in types().items()]
    lines += ["", "### Rules across keys", ""]
    lines += [f"- {summary}" for summary in rule_summaries()]
    lines += [
        "",
        "Every problem is reported at once, one line each, naming the key by its path "
        "(`cluster.workers[1].address: 192.168.2.9 is outside network.cidr 192.168.1.0/24`); nothing is created.",
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Table-cell safe: no pipes or line breaks to break the row."""
    return text.replace("|", "\\|").replace("\n", " ")


class MarkersError(ValueError):
    """The text has no well-formed pair of config-reference markers."""


def update_document(text: str) -> str:
    """The document with everything between the markers replaced by the reference."""
    start = text.find(START_MARKER)
    end = text.find(END_MARKER)
    if start < 0 or end < 0:
        raise MarkersError(f"has no config-reference markers ({START_MARKER} ... {END_MARKER})")
    if end < start or text.count(START_MARKER) != 1 or text.count(END_MARKER) != 1:
        raise MarkersError(f"needs exactly one {START_MARKER} followed by one {END_MARKER}")
    return f"{text[: start + len(START_MARKER)]}\n{render()}\n{text[end:]}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m config.reference", description="The configuration reference, from the stack config models."
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="FILE", help="rewrite the marked section of this file")
    action.add_argument("--check", type=Path, metavar="FILE", help="exit 1 if the marked section is out of date")
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
        updated = update_document(text)
    except MarkersError as error:
        print(f"{path.name} {error}", file=sys.stderr)
        return 1
    if args.write is not None:
        if updated != text:
            path.write_text(updated, encoding="utf-8")
        return 0
    if updated != text:
        print(f"{path.name}: the configuration reference is out of date; run `{WRITE_COMMAND}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
