"""Stack files under tests/fixtures: every valid one loads, every invalid one gives exactly its problems.

Each file in tests/fixtures/invalid/<category>/ is a stack with one mistake and the exact
problem line(s) it must produce, as `# expect: <line>` header comments (`{file}` stands for
the file's path). One test per fixture: `homelab plan`, `homelab diff` and `homelab check` print
exactly those lines on stderr and exit 2.
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
from config.loading import ConfigError, load_stack_file, parse_lab_config
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


@pytest.fixture(scope="module")
def out_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where refused plans would write (one folder for all: a folder per test costs more than the test)."""
    return tmp_path_factory.mktemp("refused-plans")


@pytest.mark.parametrize("path", INVALID_STACKS, ids=_id)
def test_invalid_stack_gives_exactly_its_problems_in_every_command(
    path: Path, out_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plan` (through Pulumi's runtime config, as `pulumi up` reads it), `diff` and `check` (the
    file read directly) refuse the stack with exit 2 and the same lines, one per problem, nothing else."""
    out = out_root / _id(path).replace("/", "-")
    expected = sorted(_expected(path))
    for command, argv in (
        ("plan", ["plan", "--config-file", str(path), "--out", str(out)]),
        ("diff", ["diff", str(path), str(EXAMPLE)]),
        ("check", ["check", "--config-file", str(path)]),  # refused before any probe
    ):
        runtime_config.set_all_config({}, [])
        code = main(argv)

        captured = capsys.readouterr()
        assert code == ExitCode.INVALID == 2
        header, *problems = _stderr_lines(captured.err)
        assert header == f"homelab {command}: invalid config in {path}:"
        assert sorted(problems) == expected, command
        for problem in problems:
            assert not any(word in problem for word in PYTHON_WORDS), problem
            assert len(problem) < 400
        assert captured.out == ""
    assert not out.exists()


def test_config_error_text_is_its_problems_one_per_line() -> None:
    path = INVALID / "cross-field" / "many-problems-at-once.yaml"
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)

    assert str(caught.value) == "\n".join(str(problem) for problem in caught.value.problems)
    assert sorted(str(problem) for problem in caught.value.problems) == sorted(_expected(path))


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


@pytest.mark.parametrize("name", ["other-namespaces-every-type", "anchors-and-merge-keys", "five-control-planes"])
def test_unusual_but_legitimate_stack_plans(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--config-file", str(VALID / f"{name}.yaml")]) == 0
    assert "Traceback" not in capsys.readouterr().err


def _edited_example(edits: dict[str, str]) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


WORKER_1 = "{name: worker-1, address: 192.168.1.202, vmId: 202}"
WORKER_2 = "{name: worker-2, address: 192.168.1.203, vmId: 203}"
CLIENT = "{name: talos-client, address: 192.168.1.204, vmId: 204}"
DOCUMENTED_MISTAKES = {
    "README.md": {
        "    cidr: 192.168.1.0/24": "    cdir: 192.168.1.0/24",
        WORKER_2: WORKER_2.replace("192.168.1.203", "192.168.2.9"),
        CLIENT: CLIENT.replace("vmId: 204", "vmId: 203"),
    },
    "docs/configuration.md": {
        WORKER_1: WORKER_1.replace("vmId: 202}", "vmId: 202, memoryMb: 4096}"),
        WORKER_2: WORKER_2.replace("192.168.1.203", "192.168.2.9"),
        CLIENT: CLIENT.replace("vmId: 204", "vmId: 203"),
    },
}


@pytest.mark.parametrize("document", sorted(DOCUMENTED_MISTAKES))
def test_the_documented_refusal_is_real_output(
    document: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Three mistakes, one run: the example in the docs is what `homelab plan` prints, in its order."""
    text = (REPO / document).read_text(encoding="utf-8")
    header = "homelab plan: invalid config in Pulumi.mylab.yaml:\n"
    shown = header + text.split(header, 1)[1].split("```", 1)[0]
    (tmp_path / "Pulumi.mylab.yaml").write_text(_edited_example(DOCUMENTED_MISTAKES[document]), encoding="utf-8")
    monkeypatch.chdir(tmp_path)

    assert main(["plan", "--config-file", "Pulumi.mylab.yaml"]) == 2
    assert capsys.readouterr().err == shown
