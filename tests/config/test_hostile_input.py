"""Whatever the bytes of a stack file, loading gives a LabConfig or a bounded, one-line-per-problem
ConfigError, and `homelab plan` exits 0 or 2 without a traceback. Random YAML documents, random
edits of valid stacks (hypothesis, fixed budget, derandomized so CI runs the same examples), and
the bound on lab size.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulumi.runtime import config as runtime_config

from benchmarks.stacks import example_stack, scaled_stack, write_stack
from cli.main import main
from config.loading import ConfigError, load_stack_file
from config.messages import MAX_PROBLEMS
from config.models import LabConfig
from tests.support import INVALID

# Budget: 50 examples for each of the three loading properties and 4 full plans, derandomized, no
# per-example deadline: about 15 s on a busy 2-core machine.
BUDGET = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
MAX_PROBLEM_LENGTH = 400
PYTHON_WORDS = ("None", "instance of", "Input should", "Traceback", "<unicode string>")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**30, max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["2025-01-15", "0x1F", "0755", "1:30", "yes", "~", "192.168.1.1", "10.0.0.0/8", "vmbr1"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)


@pytest.fixture(autouse=True)
def _restore_pulumi_config() -> Iterator[None]:
    runtime_config.set_all_config({}, [])
    yield
    runtime_config.set_all_config({}, [])


def _assert_clear_answer(path: Path) -> LabConfig | None:
    """Loading `path` gives a LabConfig or a ConfigError of short, single-line problems in the file's words."""
    try:
        return load_stack_file(path)
    except ConfigError as error:
        problems = [str(problem) for problem in error.problems]
        assert 1 <= len(problems) <= MAX_PROBLEMS + 1
        for problem in problems:
            assert "\n" not in problem
            assert len(problem) <= MAX_PROBLEM_LENGTH, problem
            assert not any(word in problem for word in PYTHON_WORDS), problem
        return None


def _edit(document: dict[str, Any], path: list[int], value: Any, *, delete: bool) -> dict[str, Any]:
    """The stack with the node at `path` (indices into whatever is there) replaced by `value` or deleted."""
    edited = copy.deepcopy(document)
    parent: Any = edited
    key: Any = "config"
    for index in path:
        node = parent[key]
        if isinstance(node, dict) and node:
            parent, key = node, list(node)[index % len(node)]
        elif isinstance(node, list) and node:
            parent, key = node, index % len(node)
        else:
            break
    if delete and isinstance(parent, dict):
        del parent[key]
    else:
        parent[key] = value
    return edited


@BUDGET
@given(document=values)
def test_random_yaml_documents(tmp_path: Path, document: Any) -> None:
    stack = tmp_path / "Pulumi.random.yaml"
    stack.write_text(yaml.safe_dump(document), encoding="utf-8")
    assert _assert_clear_answer(stack) is None


@BUDGET
@given(
    path=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6), value=values, delete=st.booleans()
)
def test_random_edits_of_a_valid_stack(tmp_path: Path, path: list[int], value: Any, delete: bool) -> None:
    stack = tmp_path / "Pulumi.edited.yaml"
    stack.write_text(yaml.safe_dump(_edit(example_stack(), path, value, delete=delete)), encoding="utf-8")
    _assert_clear_answer(stack)


@BUDGET
@given(position=st.integers(min_value=0, max_value=1500), junk=st.binary(min_size=1, max_size=8))
def test_random_bytes_in_a_valid_stack(tmp_path: Path, position: int, junk: bytes) -> None:
    text = yaml.safe_dump(example_stack()).encode()
    stack = tmp_path / "Pulumi.bytes.yaml"
    stack.write_bytes(text[:position] + junk + text[position:])
    _assert_clear_answer(stack)


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(path=st.lists(st.integers(min_value=0, max_value=50), min_size=2, max_size=6), value=scalars)
def test_plan_exits_0_or_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: list[int], value: Any
) -> None:
    stack = write_stack(_edit(example_stack(), path, value, delete=False), tmp_path, "edited")

    code = main(["plan", "--config-file", str(stack)])

    err = capsys.readouterr().err
    assert code in (0, 2)
    assert "Traceback" not in err
    assert len(err) < (MAX_PROBLEMS + 2) * MAX_PROBLEM_LENGTH


# --- the bound on lab size (times are CPU times: a busy machine does not make them fail) ------------


def test_largest_lab_is_accepted(tmp_path: Path) -> None:
    stack = write_stack(scaled_stack(workers=250, control_planes=5), tmp_path, "largest")
    config = load_stack_file(stack)
    assert (len(config.cluster.control_planes), len(config.cluster.workers)) == (5, 250)


def test_one_worker_more_is_refused_at_once(tmp_path: Path) -> None:
    stack = write_stack(scaled_stack(workers=251, control_planes=5), tmp_path, "too-large")
    started = time.process_time()
    with pytest.raises(ConfigError) as caught:
        load_stack_file(stack)
    assert time.process_time() - started < 0.5
    assert [str(problem) for problem in caught.value.problems] == ["cluster.workers: 251 entries, at most 250"]


@pytest.mark.parametrize(
    "name", ["encoding-and-yaml/alias-bomb", "encoding-and-yaml/huge-file", "numbers-and-bounds/too-many-workers"]
)
def test_hostile_files_are_refused_well_under_a_second(name: str) -> None:
    started = time.process_time()
    with pytest.raises(ConfigError):
        load_stack_file(INVALID / f"{name}.yaml")
    assert time.process_time() - started < 0.5


def test_a_million_values_are_refused_without_reading_them_all(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.wide.yaml"
    stack.write_text("config:\n  other:wide: [" + "1," * 400_000 + "1]\n", encoding="utf-8")
    started = time.process_time()
    with pytest.raises(ConfigError) as caught:
        load_stack_file(stack)
    assert time.process_time() - started < 1.0
    assert str(caught.value).endswith(
        ":2:200014: other:wide: more than 100000 values (aliases counted each time they are used)"
    )


def test_five_thousand_workers_are_refused_by_the_key_and_its_bound(tmp_path: Path) -> None:
    stack = example_stack()
    stack["config"]["homelab:cluster"]["workers"] = [
        {"name": f"w-{index}", "address": "192.168.1.202", "vmId": 1000 + index} for index in range(5000)
    ]
    path = tmp_path / "Pulumi.huge.yaml"
    path.write_text(json.dumps(stack), encoding="utf-8")  # JSON is YAML, and written in a blink
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    assert [str(problem) for problem in caught.value.problems] == ["cluster.workers: 5000 entries, at most 250"]


def test_a_long_misspelt_key_is_shortened(tmp_path: Path) -> None:
    stack = write_stack(example_stack(), tmp_path, "long")
    stack.write_text(stack.read_text(encoding="utf-8") + "  homelb:" + "x" * 300 + ": 1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_stack_file(stack)
    (problem,) = (str(problem) for problem in caught.value.problems)
    assert problem.startswith("'homelb:xxx")
    assert "unknown namespace (did you mean 'homelab:xxx" in problem
    assert len(problem) < 200


@pytest.mark.parametrize(
    ("key", "problems"),
    [
        ("home:site", []),  # another program's namespace, not a near-miss of homelab
        ("homelb:a:b", ["homelb:a:b: unknown namespace (did you mean 'homelab:a:b'?)"]),
        ("homelb:site:x", ["homelb:site:x: unknown namespace (did you mean 'homelab:site:x'?)"]),
        # the namespace is the part before the first ':'
        ("homelab:site:x", ["site:x: unknown key (did you mean 'site'?)"]),
    ],
)
def test_only_near_misses_of_the_namespace_are_problems(tmp_path: Path, key: str, problems: list[str]) -> None:
    stack = write_stack(example_stack(), tmp_path, "namespaces")
    stack.write_text(stack.read_text(encoding="utf-8") + f"  {key}: 1\n", encoding="utf-8")
    try:
        load_stack_file(stack)
        found: list[str] = []
    except ConfigError as error:
        found = [str(problem) for problem in error.problems]
    assert found == problems
