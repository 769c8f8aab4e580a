"""Problems in the words of the stack file: paths as keys, values as YAML shows them.

One line per problem, values shortened past 80 characters, YAML's `null`, "a
mapping" and "a list" instead of Python's names, never a traceback.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel

MAX_VALUE_LENGTH = 80
MAX_PROBLEMS = 50
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")


class Problem(NamedTuple):
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def bounded(problems: Sequence[Problem]) -> list[Problem]:
    """At most MAX_PROBLEMS problems, then one line counting the rest."""
    if len(problems) <= MAX_PROBLEMS:
        return list(problems)
    return [*problems[:MAX_PROBLEMS], Problem("", f"... and {len(problems) - MAX_PROBLEMS} more problems")]


def shorten(text: str) -> str:
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 3] + "..."


def quoted(text: str) -> str:
    """A string value, quoted, on one line (control characters escaped), shortened."""
    return shorten(repr(text))


def describe(value: Any) -> str:
    """A value as the stack file has it: `null`, `true`, `2.5`, `'text'`, a list, a mapping."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf") if math.isinf(value) else str(value)
    if isinstance(value, int):
        return shorten(str(value))
    if isinstance(value, str):
        return f"the string {quoted(value)}"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return shorten(str(value))


def path_text(loc: Sequence[int | str]) -> str:
    """`("cluster", "workers", 1, "address")` as `cluster.workers[1].address`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            name = part if _PLAIN_KEY.match(part) else quoted(part)
            text += f".{name}" if text else name
    return text


def validation_problem(error: Any, model: type[BaseModel]) -> Problem:
    """A pydantic error (from `ValidationError.errors()`) as a problem line."""
    loc = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    context = error.get("ctx") or {}
    return Problem(path_text(loc), _message(kind, value, context, str(error["msg"]), model, loc))


def _message(kind: str, value: Any, context: dict[str, Any], text: str, model: type[BaseModel], loc: Any) -> str:
    if kind == "extra_forbidden":
        return "unknown key" + _suggestion(model, loc)
    if kind == "missing":
        return "required key is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {describe(value)}"
    if kind == "list_type":
        return f"expected a list, got {describe(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"expected an integer, got {describe(value)}"
    if kind == "greater_than_equal":
        return f"{describe(value)} is less than the minimum {context['ge']}"
    if kind == "less_than_equal":
        return f"{describe(value)} is more than the maximum {context['le']}"
    if kind == "too_short":
        least = context["min_length"]
        return f"needs at least {least} {'entry' if least == 1 else 'entries'}"
    if kind == "too_long":
        return f"{context['actual_length']} entries, at most {context['max_length']}"
    if kind == "value_error":
        return text.removeprefix("Value error, ")
    return f"{describe(value)} is not valid here"


def _suggestion(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    known = _keys_at(model, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The camelCase keys the model accepts at `loc`, for typo suggestions."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {field.alias or name: field for name, field in current.model_fields.items()}
        field = fields.get(str(part))
        current = _model_in(field.annotation) if field is not None else None
        if current is None:
            return []
    return [field.alias or name for name, field in current.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None
