"""YAML as Pulumi's CLI (Go yaml.v2) reads a stack file, bounded whatever the bytes.

Built from the parser's events rather than PyYAML's constructor, so that:
- a key given twice in one mapping is an error naming both lines (not last-wins);
- dates, timestamps and `!!binary` stay the text written (Pulumi passes them on as
  strings), and an unknown tag is ignored rather than constructed;
- no YAML 1.1 base-60 numbers: `52:54:00:12:34:56` is a MAC, not an integer;
- nesting depth, the number of values (aliases counted as often as they are used)
  and the digits of a number are bounded, so an alias bomb, a self-referencing
  anchor or a number of thousands of digits is a one-line error, not a traceback.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import yaml

MAX_DEPTH = 64
# Only aliases take a stack file (at most 1 MiB, two bytes a value at the least) past this many values, so a
# large lab reaches the model, whose bounds name the key (`cluster.workers: 5000 entries, at most 250`).
MAX_VALUES = 100_000
MAX_NUMBER_DIGITS = 1_000

_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"[-+]?(?:0b[0-1_]+|0[0-7_]+|0|[1-9][0-9_]*|0x[0-9a-fA-F_]+)")
_FLOAT = re.compile(
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_BOOLS = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}
_NULLS = ("", "~", "null", "Null", "NULL")


class _Resolver(_SafeLoader):
    """Implicit tags as yaml.v2 resolves them: PyYAML's, minus base-60 numbers."""


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag not in (_TAG + "int", _TAG + "float")]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(_TAG + "int", re.compile(f"^(?:{_INT.pattern})$"), list("-+0123456789"))
_Resolver.add_implicit_resolver(_TAG + "float", re.compile(f"^(?:{_FLOAT.pattern})$"), list("-+0123456789."))


Key = str | int
TAB_MESSAGE = "a tab where YAML wants spaces (YAML never indents with tabs): replace it with spaces"


class YamlProblem(Exception):
    """Where (1-based line and column, and the keys of the collection it is in, when known) and what."""

    def __init__(self, line: int, column: int, message: str, keys: tuple[Key, ...] = ()) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.line, self.column, self.message, self.keys = line, column, message, keys


class Mapping(dict[str, Any]):
    """A YAML mapping that remembers the line each key was written on."""

    lines: dict[str, tuple[int, int]]

    def __init__(self) -> None:
        super().__init__()
        self.lines = {}


@dataclass
class _Open:
    """A collection being read: its value, its weight so far, the key awaiting a value."""

    value: Any
    mark: Any
    anchor: str | None
    weight: int = 1
    key: Any = None
    key_mark: Any = None
    merges: list[Mapping] | None = None


def _at(mark: Any, message: str) -> YamlProblem:
    return YamlProblem(mark.line + 1, mark.column + 1, message)


def read_yaml(text: str) -> Any:
    """The first document of `text` as plain data (None when there is none)."""
    resolver = _Resolver("")
    try:
        events = yaml.parse(text, Loader=_Resolver)
        return _Builder(resolver).build(events)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        message = " ".join(str(error.problem or error.context or "not valid YAML").split())
        if mark is not None and _is_tab(text, mark.index):
            # PyYAML words a tab three ways ("cannot start any token", "violates indentation", ...).
            message = TAB_MESSAGE
        raise YamlProblem(mark.line + 1 if mark else 1, mark.column + 1 if mark else 1, message) from None
    except yaml.reader.ReaderError as error:  # a character YAML does not allow, by offset
        line = text.count("\n", 0, error.position) + 1
        column = error.position - text.rfind("\n", 0, error.position)
        code = error.character if isinstance(error.character, int) else ord(error.character)
        raise YamlProblem(line, column, f"character #x{code:04x} is not allowed in YAML") from None
    except yaml.YAMLError as error:
        raise YamlProblem(1, 1, " ".join(str(error).split())) from None
    finally:
        resolver.dispose()


def _is_tab(text: str, index: int) -> bool:
    return 0 <= index < len(text) and text[index] == "\t"


class _Builder:
    def __init__(self, resolver: Any) -> None:
        self.resolver = resolver
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Open] = []
        self.result: Any = None
        self.done = False

    def build(self, events: Any) -> Any:
        for event in events:
            if isinstance(event, yaml.DocumentEndEvent):
                self.done = True
            elif self.done:
                if isinstance(event, yaml.DocumentStartEvent):
                    raise _at(event.start_mark, "a stack file holds one YAML document; found a second one")
            elif isinstance(event, yaml.ScalarEvent):
                weight = 1 + len(event.value) // 80  # long strings count as several values
                self._value(self._scalar(event), weight, event.start_mark, event.anchor)
            elif isinstance(event, yaml.AliasEvent):
                self._alias(event)
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                self._open(event)
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                self._close()
        return self.result

    def _open(self, event: Any) -> None:
        if len(self.stack) >= MAX_DEPTH:
            mark = event.start_mark  # named by the setting it is in: the full path would be 64 keys long
            raise YamlProblem(
                mark.line + 1, mark.column + 1, f"nested deeper than {MAX_DEPTH} levels", self._keys()[:2]
            )
        value: Any = Mapping() if isinstance(event, yaml.MappingStartEvent) else []
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Open(value, event.start_mark, event.anchor))

    def _close(self) -> None:
        done = self.stack.pop()
        if done.anchor is not None:
            self.open_anchors.discard(done.anchor)
        if done.merges:
            for source in done.merges:
                for key, item in source.items():
                    if key not in done.value:
                        done.value[key] = item
                        done.value.lines[key] = source.lines[key]
        self._value(done.value, done.weight, done.mark, done.anchor)

    def _alias(self, event: Any) -> None:
        name = event.anchor
        if name in self.open_anchors:
            raise _at(event.start_mark, f"alias *{name} refers to a value that contains it (recursive YAML)")
        if name not in self.anchors:
            raise _at(event.start_mark, f"alias *{name} has no anchor &{name} before it")
        value, weight = self.anchors[name]
        self._value(value, weight, event.start_mark, None)

    def _value(self, value: Any, weight: int, mark: Any, anchor: str | None) -> None:
        if anchor is not None:
            self.anchors[anchor] = (value, weight)
        if not self.stack:
            self.result = value
            return
        parent = self.stack[-1]
        parent.weight += weight
        if parent.weight > MAX_VALUES:
            message = f"more than {MAX_VALUES} values (aliases counted each time they are used)"
            raise YamlProblem(mark.line + 1, mark.column + 1, message, self._keys())
        if isinstance(parent.value, list):
            parent.value.append(value)
        elif parent.key_mark is None:
            self._key(parent, value, mark)
        else:
            self._entry(parent, value, mark)

    def _keys(self) -> tuple[Key, ...]:
        """The keys from the document's top to the innermost collection being read."""
        keys: list[Key] = []
        for outer in self.stack[:-1]:
            if isinstance(outer.value, list):
                keys.append(len(outer.value))
            else:
                keys.append("<<" if isinstance(outer.key, _Merge) else str(outer.key))
        return tuple(keys)

    def _key(self, parent: _Open, key: Any, mark: Any) -> None:
        if isinstance(key, list | dict):
            raise _at(mark, "a mapping key must be a plain value, not a list or a mapping")
        parent.key, parent.key_mark = key, mark

    def _entry(self, parent: _Open, value: Any, mark: Any) -> None:
        key, key_mark = parent.key, parent.key_mark
        parent.key, parent.key_mark = None, None
        if isinstance(key, _Merge):
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(source, Mapping) for source in sources):
                raise _at(mark, "a merge key (<<) takes a mapping or a list of mappings")
            parent.merges = [*(parent.merges or []), *sources]
            return
        text = key if isinstance(key, str) else json.dumps(key)  # an alias used as a key
        mapping: Mapping = parent.value
        if text in mapping.lines:
            line, _ = mapping.lines[text]
            raise _at(key_mark, f"key {_quote(text)} is given twice (first on line {line})")
        mapping[text] = value
        mapping.lines[text] = (key_mark.line + 1, key_mark.column + 1)

    def _scalar(self, event: Any) -> Any:
        top = self.stack[-1] if self.stack else None
        if top is not None and isinstance(top.value, Mapping) and top.key_mark is None:
            # A key is the text written (`1:`, `null:`, `yes:`), except the merge key.
            return _MERGE if event.value == "<<" and event.tag is None and event.implicit[0] else event.value
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
        elif not tag.startswith(_TAG):
            tag = self.resolver.resolve(yaml.ScalarNode, event.value, (True, False))
        return _convert(tag.removeprefix(_TAG), event.value, event.start_mark, explicit=event.tag is not None)


class _Merge:
    """The `<<` merge key (never a value)."""


_MERGE = _Merge()


def _convert(kind: str, text: str, mark: Any, *, explicit: bool) -> Any:
    try:
        return _CONVERTERS.get(kind, _as_text)(text)
    except ValueError:
        if not explicit:
            return text  # e.g. `0b_`: matched the resolver's pattern, holds no digits
        raise _at(mark, f"{_quote(text)} is not a valid !!{kind}") from None


def _as_text(text: str) -> str:
    return text


def _as_null(text: str) -> None:
    if text not in _NULLS:
        raise ValueError(text)


def _as_bool(text: str) -> bool:
    return _BOOLS[text.lower()] if text.lower() in _BOOLS else _fail(text)


def _as_int(text: str) -> int | str:
    if not _INT.fullmatch(text):
        raise ValueError(text)
    digits = text.replace("_", "")
    if len(digits) > MAX_NUMBER_DIGITS:
        return text  # Pulumi passes such a number on as text; a key that wants a number says so.
    sign = -1 if digits[0] == "-" else 1
    digits = digits.lstrip("+-")
    if digits[:2] in ("0b", "0x"):
        return sign * int(digits[2:], 2 if digits[1] == "b" else 16)
    if len(digits) > 1 and digits[0] == "0":
        return sign * int(digits[1:], 8)
    return sign * int(digits)


def _as_float(text: str) -> float | str:
    if not _FLOAT.fullmatch(text):
        raise ValueError(text)
    if len(text) > MAX_NUMBER_DIGITS:
        return text
    lowered = text.replace("_", "").lower()
    if lowered.endswith(".inf"):
        return -math.inf if lowered.startswith("-") else math.inf
    return math.nan if lowered == ".nan" else float(lowered)


def _fail(text: str) -> Any:
    raise ValueError(text)


_CONVERTERS = {
    "null": _as_null,
    "bool": _as_bool,
    "int": _as_int,
    "float": _as_float,
    "str": _as_text,
    # Pulumi hands dates and binary values to the program as the text written.
    "timestamp": _as_text,
    "binary": lambda text: "".join(text.split()),
}


def _quote(text: str) -> str:
    from config.messages import quoted

    return quoted(text)
