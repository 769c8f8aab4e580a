"""Problems in the words of the stack file: paths as keys, values as YAML shows them.

One line per problem, values shortened past 80 characters, YAML's `null`, "a
mapping" and "a list" instead of Python's names, never a traceback.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel

MAX_VALUE_LENGTH = 80
MAX_PROBLEMS = 50
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,80}")


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
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else ("-.inf" if value < 0 else ".inf")
    for kind, text in _KINDS:
        if isinstance(value, kind):
            return text(value)
    return shorten(str(value))


_KINDS: tuple[tuple[Any, Callable[[Any], str]], ...] = (
    (type(None), lambda _: "null"),
    (bool, lambda value: "true" if value else "false"),
    (int | float, lambda value: shorten(str(value))),
    (str, lambda value: f"the string {quoted(value)}"),
    (list | tuple, lambda _: "a list"),
    (dict, lambda _: "a mapping"),
)


def path_text(loc: Sequence[int | str]) -> str:
    """`("cluster", "workers", 1, "address")` as `cluster.workers[1].address`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            name = part if _PLAIN_KEY.fullmatch(part) else quoted(part)
            text += f".{name}" if text else name
    return text


def validation_problem(error: Any, model: type[BaseModel]) -> Problem:
    """A pydantic error (from `ValidationError.errors()`) as a problem line."""
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return Problem(path_text(loc), "unknown key" + _suggestion(model, loc))
    value, context = error.get("input"), error.get("ctx") or {}
    if kind in _MESSAGES:
        text = _MESSAGES[kind](value, context)
    elif kind == "value_error":  # the types' own messages (config.types)
        text = str(error["msg"]).removeprefix("Value error, ")
    else:
        text = f"{describe(value)} is not valid here"
    return Problem(path_text(loc), text)


def _entries(count: int) -> str:
    return f"{count} {'entry' if count == 1 else 'entries'}"


_MAPPING = lambda value, _: f"expected a mapping, got {describe(value)}"  # noqa: E731
_INTEGER = lambda value, _: f"expected an integer, got {describe(value)}"  # noqa: E731
_MESSAGES: dict[str, Callable[[Any, dict[str, Any]], str]] = {
    "missing": lambda _, __: "required key is missing",
    "model_type": _MAPPING,
    "model_attributes_type": _MAPPING,
    "dict_type": _MAPPING,
    "list_type": lambda value, _: f"expected a list, got {describe(value)}",
    "bool_type": lambda value, _: f"expected true or false, got {describe(value)}",
    "int_type": _INTEGER,
    "int_parsing": _INTEGER,
    "int_from_float": _INTEGER,
    "greater_than_equal": lambda value, context: f"{describe(value)} is less than the minimum {context['ge']}",
    "less_than_equal": lambda value, context: f"{describe(value)} is more than the maximum {context['le']}",
    "too_short": lambda _, context: f"needs at least {_entries(context['min_length'])}",
    "too_long": lambda _, context: f"{_entries(context['actual_length'])}, at most {context['max_length']}",
    "literal_error": lambda value, context: f"{describe(value)} is not one of {context['expected']}",
}


def _suggestion(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    close = suggested_key(model, loc)
    return f" (did you mean '{close}'?)" if close else ""


def suggested_key(model: type[BaseModel], loc: tuple[int | str, ...]) -> str | None:
    """The known key an unknown key at `loc` is most likely a misspelling of, if any is close."""
    close = difflib.get_close_matches(str(loc[-1]), _keys_at(model, loc[:-1]), n=1)
    return close[0] if close else None


def _keys_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The camelCase keys the model accepts at `loc`, for typo suggestions."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {field.alias or name: field for name, field in current.model_fields.items()}
        field = fields.get(str(part))
        current = model_in(field.annotation) if field is not None else None
        if current is None:
            return []
    return [field.alias or name for name, field in current.model_fields.items()]


def model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field's annotation holds (`X`, `X | None`, `list[X]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = model_in(argument)
        if found is not None:
            return found
    return None
