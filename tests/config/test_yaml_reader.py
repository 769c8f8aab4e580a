"""config.yaml_reader: YAML read as Pulumi's CLI reads a stack file, within bounds.

Values of other namespaces never reach the models, so what the reader makes of them is pinned
here directly: numbers in every YAML 1.1 spelling, dates and binary as text, merge keys, and the
exact limits of depth, size and digits.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from config import yaml_reader
from config.yaml_reader import MAX_DEPTH, MAX_NUMBER_DIGITS, MAX_VALUES, Mapping, YamlProblem, read_yaml


def _value(text: str) -> Any:
    return read_yaml(f"v: {text}\n")["v"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12", 12),
        ("+12", 12),
        ("-12", -12),
        ("1_000", 1000),
        ("1__0_", 10),  # YAML 1.1 allows '_' anywhere after the first digit; Python's int() does not
        ("!custom 5", 5),  # a local tag the reader does not know: resolved as if untagged
        ("0", 0),
        ("017", 15),  # YAML 1.1 octal, as yaml.v2 reads it
        ("-017", -15),
        ("0x1F", 31),
        ("-0x10", -16),
        ("0b101", 5),
        ("1.5", 1.5),
        ("-1_0.5", -10.5),
        ("1__0.5", 10.5),
        (".5", 0.5),
        ("1.5e+3", 1500.0),
        ("yes", True),
        ("No", False),
        ("ON", True),
        ("off", False),
        ("true", True),
        ("~", None),
        ("null", None),
        ("", None),
        ("1:30", "1:30"),  # no base-60 numbers
        ("52:54:00:12:34:56", "52:54:00:12:34:56"),
        ("1:30.5", "1:30.5"),
        ("2025-01-15", "2025-01-15"),  # dates stay the text written
        ("2025-01-15T10:20:30Z", "2025-01-15T10:20:30Z"),
        ("!!binary aGVs bG8=", "aGVsbG8="),
        ("!!str 12", "12"),
        ("!!int '12'", 12),
        ("!!float '1.0'", 1.0),
        ("!!bool 'yes'", True),
        ("!!null ''", None),
        ("!Ref thing", "thing"),  # an unknown tag is ignored
        ("!!python/object:os.system ls", "ls"),  # never constructed
        ("'0x1F'", "0x1F"),
        ("0b_", "0b_"),  # matches the pattern, holds no digits: text
    ],
)
def test_scalars(text: str, value: Any) -> None:
    assert _value(text) == value
    assert type(_value(text)) is type(value)


@pytest.mark.parametrize(("text", "sign"), [(".inf", 1), ("-.Inf", -1), ("+.INF", 1)])
def test_infinities(text: str, sign: int) -> None:
    assert _value(text) == sign * math.inf


def test_not_a_number() -> None:
    assert math.isnan(_value(".NaN"))


@pytest.mark.parametrize("text", ["!!int two", "!!float x", "!!bool maybe", "!!null x", "!!int 1:30"])
def test_explicit_tag_on_the_wrong_text_is_an_error(text: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        read_yaml(f"a: 1\nv: {text}\n")
    assert (caught.value.line, caught.value.column) == (2, 4)
    assert caught.value.message.endswith("is not a valid !!" + text.split(maxsplit=1)[0].removeprefix("!!"))


def test_number_digits_bound() -> None:
    assert _value("9" * MAX_NUMBER_DIGITS) == int("9" * MAX_NUMBER_DIGITS)
    assert _value("9" * (MAX_NUMBER_DIGITS + 1)) == "9" * (MAX_NUMBER_DIGITS + 1)
    assert _value("1." + "5" * (MAX_NUMBER_DIGITS - 2)) == float("1." + "5" * (MAX_NUMBER_DIGITS - 2))
    assert _value("1." + "5" * (MAX_NUMBER_DIGITS - 1)) == "1." + "5" * (MAX_NUMBER_DIGITS - 1)


def test_keys_are_the_text_written() -> None:
    document = read_yaml("1: a\nnull: b\nyes: c\n'x': d\n")
    assert document == {"1": "a", "null": "b", "yes": "c", "x": "d"}
    assert document.lines == {"1": (1, 1), "null": (2, 1), "yes": (3, 1), "x": (4, 1)}


def test_alias_as_a_key() -> None:
    assert read_yaml("a: &n 5\n*n : b\n") == {"a": 5, "5": "b"}


def test_merge_keys_explicit_first_then_sources_in_order() -> None:
    text = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  x: 0\nd: {<<: *b}\n"
    document = read_yaml(text)
    assert document["c"] == {"x": 0, "y": 1, "z": 2}
    assert document["d"] == {"y": 2, "z": 2}
    assert document["c"].lines["z"] == (2, 14)


def test_merge_key_only_as_a_key() -> None:
    assert read_yaml("a: <<\nb: [<<]\n'<<': c\n") == {"a": "<<", "b": ["<<"], "<<": "c"}


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("a: 1\na: 2\n", (2, 1), "key 'a' is given twice (first on line 1)"),
        ("a: {b: 1, b: 1}\n", (1, 11), "key 'b' is given twice (first on line 1)"),
        ("a: &x [*x]\n", (1, 8), "alias *x refers to a value that contains it (recursive YAML)"),
        ("a: *nowhere\n", (1, 4), "alias *nowhere has no anchor &nowhere before it"),
        ("? [a]\n: b\n", (1, 3), "a mapping key must be a plain value, not a list or a mapping"),
        ("a: {<<: [1]}\n", (1, 9), "a merge key (<<) takes a mapping or a list of mappings"),
        ("a: 1\n---\nb: 2\n", (2, 1), "a stack file holds one YAML document; found a second one"),
        ("a: [1,\n", (2, 1), "did not find expected node content"),
        ("a:\n  b: \x07\n", (2, 6), "character #x0007 is not allowed in YAML"),
        ("\na: \x07\n", (2, 4), "character #x0007 is not allowed in YAML"),  # lines counted from the first byte
    ],
)
def test_problems_name_line_and_column(text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(YamlProblem) as caught:
        read_yaml(text)
    assert (caught.value.line, caught.value.column) == where
    assert caught.value.message == message
    assert str(caught.value) == f"{where[0]}:{where[1]}: {message}"


def test_depth_bound() -> None:
    assert read_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(YamlProblem) as caught:
        read_yaml("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert caught.value.message == f"nested deeper than {MAX_DEPTH} levels"
    assert (caught.value.line, caught.value.column) == (1, MAX_DEPTH + 1)


def test_values_bound_counts_aliases_and_long_strings(monkeypatch: pytest.MonkeyPatch) -> None:
    bound = 2_000  # the counting at a small bound; the real bound's cost: tests/config/test_hostile_input.py
    monkeypatch.setattr(yaml_reader, "MAX_VALUES", bound)
    assert len(read_yaml("[" + "1," * (bound - 2) + "1]")) == bound - 1
    with pytest.raises(YamlProblem) as caught:
        read_yaml("[" + "1," * (bound - 1) + "1]")
    assert caught.value.message == f"more than {bound} values (aliases counted each time they are used)"
    with pytest.raises(YamlProblem) as caught:
        read_yaml("a: &a [" + ",".join(["x"] * 20) + "]\nb: {c: [" + ",".join(["*a"] * 100) + "]}\n")
    assert caught.value.keys == ("b", "c")  # where the values pile up, for the problem line
    with pytest.raises(YamlProblem):
        read_yaml("[" + ",".join(["x" * 8000] * (bound // 100)) + "]")
    assert MAX_VALUES == 100_000


def test_aliases_share_their_anchor_value() -> None:
    document = read_yaml("a: &a [1, 2]\nb: *a\n")
    assert document == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize(("text", "value"), [("", None), ("# only a comment\n", None), ("--- 5\n...\n", 5)])
def test_documents_without_a_mapping(text: str, value: Any) -> None:
    assert read_yaml(text) == value


def test_mappings_remember_where_each_key_is() -> None:
    document = read_yaml("config:\n  a: 1\n  b:\n    c: 2\n")
    assert isinstance(document, Mapping)
    assert document.lines == {"config": (1, 1)}
    assert document["config"].lines == {"a": (2, 3), "b": (3, 3)}
    assert document["config"]["b"].lines == {"c": (4, 5)}
