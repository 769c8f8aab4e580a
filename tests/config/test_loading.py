"""The shape of a stack file (config.loading): what is said when `config:` is missing, and namespaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loading import ConfigError, read_stack_file

_SHAPE = "as in Pulumi.<stack>.yaml"


@pytest.mark.parametrize(
    ("keys", "listed"),
    [
        (["homelab:a"], "homelab:a"),
        (["homelab:a", "homelab:b", "x:c"], "homelab:a, homelab:b, x:c"),
        (["homelab:a", "homelab:b", "x:c", "homelab:d"], "homelab:a, homelab:b, x:c, ..."),
    ],
)
def test_keys_outside_config_are_named_up_to_three(tmp_path: Path, keys: list[str], listed: str) -> None:
    stack = tmp_path / "Pulumi.lab.yaml"
    stack.write_text("".join(f"{key}: 1\n" for key in keys), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(stack)
    message = f"no top-level 'config:' key; {listed} belong indented under 'config:', {_SHAPE}"
    assert [str(problem) for problem in caught.value.problems] == [f"{stack}: {message}"]


def test_a_file_without_config_or_namespaced_keys_says_where_settings_go(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.lab.yaml"
    stack.write_text("encryptionsalt: abc\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_stack_file(stack)
    message = f"no top-level 'config:' key; a stack file keeps its settings under 'config:', {_SHAPE}"
    assert [str(problem) for problem in caught.value.problems] == [f"{stack}: {message}"]
