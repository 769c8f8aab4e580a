"""Stack files under tests/fixtures: every valid one loads, every invalid one gives exactly its problems.

Each file in tests/fixtures/invalid/<category>/ is a stack with one mistake and the exact
problem line(s) it must produce, as `# expect: <line>` header comments (`{file}` stands for
the file's path). Through `homelab plan` the same lines reach stderr with exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi.runtime import config as runtime_config

from cli.exit_codes import ExitCode
from cli.main import main
from config.loading import ConfigError, apply_stack_file, load_lab_config, load_stack_file, parse_lab_config
from tests.support import INVALID, REPO, VALID

EXAMPLE = REPO / "Pulumi.dev.yaml"
VALID_STACKS = [EXAMPLE, *sorted(VALID.glob("*.yaml"))]
INVALID_STACKS = sorted(INVALID.glob("*/*.yaml"))
CATEGORIES = (
    "encoding-and-yaml",
    "types-and-nulls",
    "numbers-and-bounds",
    "addresses-and-networks",
    "macs",
    "names-and-hosts",
    "versions",
    "proxmox-identifiers",
    "cross-field",
    "fabric",
)
EXPECT = "# expect: "
# Words of Python, not of the stack file: never in a message.
PYTHON_WORDS = ("None", "instance of", "Input should", "<unicode string>", "NoneType", "Traceback")

# Run as real processes (exit code, no traceback); the others run `main` in-process.
SUBPROCESS_STACKS = (
    "types-and-nulls/unknown-nested-key",
    "addresses-and-networks/guest-outside-lan",
    "cross-field/two-hosts-without-bridge-ports",
    "encoding-and-yaml/alias-bomb",
    "encoding-and-yaml/latin-1-encoding",
    "encoding-and-yaml/deep-nesting",
    "numbers-and-bounds/huge-integer",
)


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}" if path.parent.parent == INVALID else path.stem


def _text(path: Path) -> str:
    """The fixture as text, whatever its encoding (some are deliberately not UTF-8)."""
    data = path.read_bytes()
    return data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode("utf-8", "replace")


def _expected(path: Path) -> list[str]:
    lines = _text(path).splitlines()
    return [line.removeprefix(EXPECT).replace("{file}", str(path)) for line in lines if line.startswith(EXPECT)]


def _stderr_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


@pytest.fixture(autouse=True)
def _restore_pulumi_config() -> Iterator[None]:
    """`apply_stack_file` (and the CLI) fill Pulumi's process-wide runtime config: start and end empty."""
    runtime_config.set_all_config({}, [])
    yield
    runtime_config.set_all_config({}, [])


def test_fixture_sets_cover_the_categories() -> None:
    counts = Counter(path.parent.name for path in INVALID_STACKS)
    assert set(counts) == set(CATEGORIES)
    assert all(counts[category] >= 8 for category in CATEGORIES), counts
    assert len(INVALID_STACKS) >= 120
    assert all(_expected(path) for path in INVALID_STACKS), "every invalid stack names the problem(s) it must produce"
    assert len(VALID_STACKS) >= 7


@pytest.mark.parametrize("path", VALID_STACKS, ids=_id)
def test_valid_stack_loads(path: Path) -> None:
    config = load_stack_file(path)

    # What the model holds is itself a valid stack: dumping and re-reading it changes nothing.
    dumped = config.model_dump(mode="json", by_alias=True)
    assert parse_lab_config(dumped) == config


@pytest.mark.parametrize("path", INVALID_STACKS, ids=_id)
def test_invalid_stack_reports_exactly_its_problems(path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)

    problems = [str(problem) for problem in caught.value.problems]
    assert sorted(problems) == sorted(_expected(path))
    assert str(caught.value) == "\n".join(problems)
    for problem in problems:
        assert "\n" not in problem
        assert not any(word in problem for word in PYTHON_WORDS), problem
        assert len(problem) < 400


@pytest.mark.parametrize("path", INVALID_STACKS, ids=_id)
def test_invalid_stack_reports_the_same_through_pulumi_config(path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        apply_stack_file(path)  # problems of the file itself (bytes, YAML) stop here
        load_lab_config()

    assert sorted(str(problem) for problem in caught.value.problems) == sorted(_expected(path))


@pytest.mark.parametrize("path", INVALID_STACKS, ids=_id)
def test_plan_refuses_invalid_stack(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan"

    code = main(["plan", "--config-file", str(path), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == ExitCode.INVALID == 2
    stderr = _stderr_lines(captured.err)
    for line in _expected(path):
        assert line in stderr
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not out.exists()


@pytest.mark.parametrize("name", SUBPROCESS_STACKS)
def test_plan_process_exits_2_without_traceback(name: str, tmp_path: Path) -> None:
    path = INVALID / f"{name}.yaml"
    out = tmp_path / "plan"
    out.mkdir()  # an existing, empty directory stays empty

    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "plan", "--config-file", str(path), "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2, result.stderr
    stderr = _stderr_lines(result.stderr)
    for line in _expected(path):
        assert line in stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr) < 2000
    assert list(out.iterdir()) == []


def test_readme_typo_in_a_key_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count("    cidr: 192.168.1.0/24") == 1
    stack = tmp_path / "Pulumi.typo.yaml"
    stack.write_text(text.replace("    cidr: 192.168.1.0/24", "    cdir: 192.168.1.0/24"), encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_stack_file(stack)
    assert "network.cdir: unknown key (did you mean 'cidr'?)" in [str(problem) for problem in caught.value.problems]

    assert main(["plan", "--config-file", str(stack)]) == 2
    assert "network.cdir: unknown key (did you mean 'cidr'?)" in _stderr_lines(capsys.readouterr().err)


@pytest.mark.parametrize("name", ["other-namespaces-every-type", "anchors-and-merge-keys", "five-control-planes"])
def test_unusual_but_legitimate_stack_plans(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--config-file", str(VALID / f"{name}.yaml")]) == 0
    assert "Traceback" not in capsys.readouterr().err
