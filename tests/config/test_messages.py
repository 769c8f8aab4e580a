"""Problem lines for models of any shape (config.messages), and the Talos config contract's wording."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from config.messages import validation_problem
from config.versions import ConfigContract


class _Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "x"
    size: int = 1


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = "x"
    leaf: None | _Leaf = None  # noqa: RUF036 (None first: the model is found past a type without arguments)


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[_Item] = []


def _problem(raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        _Outer.model_validate(raw)
    return str(validation_problem(caught.value.errors()[0], _Outer))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"itemz": []}, "itemz: unknown key (did you mean 'items'?)"),
        ({"items": [{"labl": "a"}]}, "items[0].labl: unknown key (did you mean 'label'?)"),
        ({"items": [{}, {"leaf": {"nmae": "a"}}]}, "items[1].leaf.nmae: unknown key (did you mean 'name'?)"),
        ({"items": [{"leaf": {"sizes": 2}}]}, "items[0].leaf.sizes: unknown key (did you mean 'size'?)"),
        ({"items": [{"leaf": {"zzz": 2}}]}, "items[0].leaf.zzz: unknown key"),
    ],
)
def test_suggestions_follow_lists_and_optional_models(raw: dict[str, Any], problem: str) -> None:
    assert _problem(raw) == problem


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.13", "'1.13' is not a Talos config contract (expected vMAJOR.MINOR, e.g. v1.13)"),
        ("v1.12", "v1.12 is not supported (supported: v1.13)"),
        (13, "expected a Talos minor, got 13"),
    ],
)
def test_config_contract_messages(value: Any, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(ConfigContract).validate_python(value)
    assert str(caught.value.errors()[0]["msg"]).removeprefix("Value error, ") == message
