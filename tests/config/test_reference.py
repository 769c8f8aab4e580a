"""The configuration reference (config.reference) and the section of docs/configuration.md it fills."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from config import reference
from config.models import LabConfig
from config.rules import CHECKS
from config.types import SCHEMA_TYPES
from tests.support import REPO

REFERENCE_DOCUMENT = REPO / reference.DOCUMENT


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """(the model inside `annotation`, whether it is a list of them), walking Optional and list by hand."""
    candidates: list[Any] = [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    for candidate in candidates:
        if typing.get_origin(candidate) is list:
            (item,) = typing.get_args(candidate)
            if isinstance(item, type) and issubclass(item, BaseModel):
                return item, True
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate, False
    return None, False


def _all_keys(model: type[BaseModel], prefix: str) -> list[str]:
    """Every key a stack file may hold, walked independently of the generator."""
    keys: list[str] = []
    for name, info in model.model_fields.items():
        key = f"{prefix}{info.alias or name}"
        keys.append(key)
        inner, is_list = _model_in(info.annotation)
        if inner is not None:
            keys += _all_keys(inner, f"{key}[]." if is_list else f"{key}.")
    return keys


ALL_KEYS = _all_keys(LabConfig, "homelab:")


def _table(markdown: str) -> dict[str, list[str]]:
    """key -> [type, default, rule], from the rendered tables."""
    rows: dict[str, list[str]] = {}
    for line in markdown.splitlines():
        if line.startswith("| `homelab:"):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            key = cells[0].strip("`")
            assert key not in rows, f"{key} is listed twice"
            rows[key] = cells[1:]
    return rows


@pytest.fixture(scope="module")
def rendered() -> str:
    return reference.render()


def test_walk_finds_the_nested_keys() -> None:
    # The independent walk itself must reach into objects and lists of objects.
    assert "homelab:network.router.wanAddress" in ALL_KEYS
    assert "homelab:cluster.workers[].memoryMiB" in ALL_KEYS
    assert "homelab:network.dynamicRange.start" in ALL_KEYS
    assert "homelab:loadBalancer.ingressAddress" in ALL_KEYS


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_key_of_every_model_is_listed(rendered: str, key: str) -> None:
    table = _table(rendered)
    top_level_object = key.count(".") == 0 and key != "homelab:sshPublicKeys"
    if top_level_object:
        # A section (homelab:network) is a heading; its keys are the rows.
        assert f"### `{key}`" in rendered
    else:
        assert key in table, f"{key} is missing from the reference"


def test_the_reference_lists_nothing_the_models_lack(rendered: str) -> None:
    assert set(_table(rendered)) <= set(ALL_KEYS)


def test_every_row_has_a_type_a_default_and_a_rule(rendered: str) -> None:
    for key, (type_text, default, rule) in _table(rendered).items():
        assert type_text, key
        assert default, key
        assert rule, f"{key} has no description: add `description=` to its Field in config/models.py"


@pytest.mark.parametrize(
    ("key", "default"),
    [
        ("homelab:network.bridge", "`vmbr1`"),
        ("homelab:network.upstreamDns", "`[1.1.1.1, 9.9.9.9]`"),
        ("homelab:cluster.talosVersion", "`v1.13.9`"),
        ("homelab:cluster.kubernetesVersion", "`1.36.3`"),
        ("homelab:site.replicas", "`2`"),
        ("homelab:site.host", "`www.example.com`"),
        ("homelab:cluster.podCidr", "`10.244.0.0/16`"),
        ("homelab:cluster.workers", "`[]`"),
        ("homelab:client.cores", "`1`"),  # ClientConfig overrides GuestConfig's 2
        ("homelab:cluster.workers[].cores", "`2`"),
        ("homelab:cluster.vip", "unset"),
        ("homelab:network.cidr", "required"),
        ("homelab:cluster.controlPlanes", "required"),
        ("homelab:cluster.controlPlanes[].address", "required"),
    ],
)
def test_defaults(rendered: str, key: str, default: str) -> None:
    assert _table(rendered)[key][1] == default


@pytest.mark.parametrize(
    ("key", "type_text"),
    [
        ("homelab:network.router.wanAddress", "IPv4 address/prefix"),
        ("homelab:network.cidr", "IPv4 CIDR"),
        ("homelab:network.router.address", "IPv4 address"),
        ("homelab:cluster.workers[].mac", "MAC address"),
        ("homelab:cluster.name", "DNS label"),
        ("homelab:site.host", "DNS name"),
        ("homelab:network.router.cores", "integer 1–64"),  # noqa: RUF001
        ("homelab:site.replicas", "integer 1–50"),  # noqa: RUF001
        ("homelab:network.upstreamDns", "list of IPv4 address, 1 to 16 entries"),
        ("homelab:network.hostAddresses", "map of host → (IPv4 address/prefix), at most 32 hosts"),
        ("homelab:network.bridgePorts", "map of host → (list of interface name, at most 16 entries), at most 32 hosts"),
        ("homelab:cluster.controlPlanes", "list of object (keys below)"),
        ("homelab:cluster.workers", "list of object (keys below), at most 250 entries"),
        ("homelab:proxmox.nodes", "list of DNS label, 1 to 32 entries"),
        ("homelab:proxmox.vmDatastore", "Proxmox storage id"),
        ("homelab:network.bridge", "interface name"),
        ("homelab:network.adminCidrs", "list of IPv4 source CIDR, 1 to 64 entries"),
        ("homelab:cluster.talosVersion", "Talos version"),
        ("homelab:cluster.installDisk", "disk path"),
        ("homelab:storage.fsType", "filesystem"),
        ("homelab:storage.reclaimPolicy", "reclaim policy"),
        ("homelab:storage.apiUrl", "Proxmox API URL"),
    ],
)
def test_types_in_user_terms(rendered: str, key: str, type_text: str) -> None:
    assert _table(rendered)[key][0] == type_text


def test_sections_in_order(rendered: str) -> None:
    headings = [line.removeprefix("### ") for line in rendered.splitlines() if line.startswith("### ")]
    assert headings == [
        "`homelab:proxmox`",
        "`homelab:network`",
        "`homelab:cluster`",
        "`homelab:client`",
        "`homelab:loadBalancer`",
        "`homelab:site`",
        "`homelab:storage`",
        "`homelab:backup`",
        "`homelab:sshPublicKeys`",
        "`homelab:allowDestroy`",
        "Types",
        "Rules across keys",
    ]


def test_every_cross_field_check_is_summarised_by_its_docstring(rendered: str) -> None:
    summaries = reference.rule_summaries()
    assert len(summaries) == len(CHECKS)
    for check, summary in zip(CHECKS, summaries, strict=True):
        assert check.__doc__, f"{check.__name__} needs a docstring: it is its summary in the reference"
        assert summary == " ".join(check.__doc__.split())
        assert f"- {summary}" in rendered


def test_types_table_lists_every_type_with_what_it_accepts(rendered: str) -> None:
    table = reference.types()
    assert len(table) == len(SCHEMA_TYPES), "each type has a title of its own"
    assert table["Talos version"].endswith("supported: v1.13.x.")
    assert "1.31.x" in table["Kubernetes version"]
    assert table["interface name"].startswith("A Linux network interface, at most 15 characters")
    for title, text in table.items():
        assert f"| {title} | {text} |" in rendered


# --- the marked section --------------------------------------------------------

START, END = reference.START_MARKER, reference.END_MARKER
DOCUMENT_WITH_MARKERS = (
    f"# homelab\n\nIntro.\n\n## Configuration\n\n{START}\nstale text\n{END}\n\n## Operations\n\nMore.\n"
)


def test_update_document_fills_the_marked_section() -> None:
    updated = reference.update_document(DOCUMENT_WITH_MARKERS)
    assert updated.startswith(f"# homelab\n\nIntro.\n\n## Configuration\n\n{START}\n")
    assert updated.endswith(f"\n{END}\n\n## Operations\n\nMore.\n")
    assert "stale text" not in updated
    assert reference.render() in updated


def test_update_document_is_idempotent() -> None:
    once = reference.update_document(DOCUMENT_WITH_MARKERS)
    assert reference.update_document(once) == once


def test_update_document_touches_only_the_marked_section() -> None:
    updated = reference.update_document(DOCUMENT_WITH_MARKERS)
    before, _, _ = DOCUMENT_WITH_MARKERS.partition(START)
    _, _, after = DOCUMENT_WITH_MARKERS.partition(END)
    assert updated.partition(START)[0] == before
    assert updated.partition(END)[2] == after


@pytest.mark.parametrize(
    "text",
    ["# homelab\n", f"# homelab\n{START}\n", f"{END}\n{START}\n", f"{START}\n{START}\n{END}\n"],
    ids=["none", "no-end", "reversed", "twice"],
)
def test_update_document_refuses_missing_or_broken_markers(text: str) -> None:
    with pytest.raises(reference.MarkersError) as caught:
        reference.update_document(text)
    missing = START not in text or END not in text
    assert str(caught.value).startswith("has no config-reference markers" if missing else "needs exactly one")


def test_markers_at_the_very_start_of_the_text() -> None:
    assert reference.update_document(f"{START}\nold\n{END}\n") == f"{START}\n{reference.render()}\n{END}\n"


def test_check_and_write(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(DOCUMENT_WITH_MARKERS, encoding="utf-8")
    assert reference.main(["--check", str(readme)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert reference.main(["--write", str(readme)]) == 0
    assert reference.main(["--check", str(readme)]) == 0
    assert readme.read_text(encoding="utf-8") == reference.update_document(DOCUMENT_WITH_MARKERS)


def test_check_without_markers_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# homelab\n", encoding="utf-8")
    assert reference.main(["--check", str(readme)]) == 1
    assert "README.md has no config-reference markers" in capsys.readouterr().err
    assert reference.main(["--write", str(readme)]) == 1
    assert readme.read_text(encoding="utf-8") == "# homelab\n"


def test_check_of_a_missing_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert reference.main(["--check", str(tmp_path / "README.md")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_the_documented_reference_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    """`--check docs/configuration.md`: fails (never skips) when the file, its markers or a fresh reference are
    missing."""
    status = reference.main(["--check", str(REFERENCE_DOCUMENT)])
    assert status == 0, capsys.readouterr().err.strip()


def test_without_arguments_it_prints_the_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert reference.main([]) == 0
    assert capsys.readouterr().out == reference.render() + "\n"


def test_help_names_the_command_and_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        reference.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert text.startswith("usage: python -m config.reference [-h] [--write FILE | --check FILE]")
    assert "The configuration reference, from the stack config models." in text
    assert "--write FILE rewrite the marked section of this file" in text
    assert "--check FILE exit 1 if the marked section is out of date" in text
