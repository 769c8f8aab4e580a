"""Loading the stack config: one validation path for both sources.

`pulumi up` fills Pulumi's runtime config from the stack; `homelab plan`
fills the same runtime config from a stack file (`apply_stack_file`). Either
way `load_lab_config` reads the `homelab:` keys from there and validates them.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from config.models import LabConfig
from config.rules import Problem, check_lab

NAMESPACE = "homelab"
SECRET_PLACEHOLDER = "[secret]"


# libyaml's parser when present: the pure-Python one costs more than the rest of loading.
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StackFileLoader(_SafeLoader):
    """YAML as Pulumi's CLI (Go yaml.v2) reads a stack file: no YAML 1.1 base-60 integers.

    PyYAML reads an unquoted `52:54:00:12:34:56` as the integer 41135085296;
    `pulumi up` passes the string. Both paths must see the same MAC.
    """


_INT = "tag:yaml.org,2002:int"
_StackFileLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _INT]
    for first, resolvers in _SafeLoader.yaml_implicit_resolvers.items()
}
_StackFileLoader.add_implicit_resolver(
    _INT,
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)


class ConfigError(Exception):
    """The stack config is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def parse_lab_config(raw: Mapping[str, Any]) -> LabConfig:
    """Validate the `homelab:` keys (namespace stripped) into a LabConfig."""
    try:
        config = LabConfig.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError([_problem(item) for item in error.errors()]) from None
    problems = check_lab(config)
    if problems:
        raise ConfigError(problems)
    return config


def load_lab_config() -> LabConfig:
    """The LabConfig of the stack Pulumi is running (or `apply_stack_file` set)."""
    from pulumi.runtime import config as runtime_config

    return _lab_config_from({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def _lab_config_from(values: Mapping[str, Any]) -> LabConfig:
    """The `homelab:` keys of a full config map, validated; a misspelt namespace is a problem too."""
    prefix = f"{NAMESPACE}:"
    raw = {key.removeprefix(prefix): _decode(value) for key, value in values.items() if key.startswith(prefix)}
    misspelt = [
        Problem(key, f"unknown namespace (did you mean '{NAMESPACE}:{key.partition(':')[2]}'?)")
        for key in sorted(values)
        if ":" in key and key.partition(":")[0] != NAMESPACE and _close_to_namespace(key.partition(":")[0])
    ]
    try:
        config = parse_lab_config(raw)
    except ConfigError as error:
        raise ConfigError([*misspelt, *error.problems]) from None
    if misspelt:
        raise ConfigError(misspelt)
    return config


def _close_to_namespace(namespace: str) -> bool:
    # Only near-misses: other providers' namespaces (proxmoxve:, kubernetes:) are fine.
    return bool(difflib.get_close_matches(namespace, [NAMESPACE], n=1, cutoff=0.75))


def apply_stack_file(path: Path) -> None:
    """Put a stack file's config into Pulumi's runtime config, as `pulumi up` would."""
    from pulumi.runtime import config as runtime_config

    values, secret_keys = read_stack_file(path)
    runtime_config.set_all_config(values, secret_keys)


def read_stack_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """The stack file's config as Pulumi's runtime holds it: full keys, string values.

    `secure:` values (anywhere in a value) become the placeholder `[secret]` and
    their key is listed as secret.
    """
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_StackFileLoader)
    except OSError as error:
        raise ConfigError([Problem(str(path), f"cannot read the stack file: {error.strerror}")]) from None
    except yaml.YAMLError as error:
        raise ConfigError([Problem(str(path), f"not valid YAML: {error}")]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        expected = "expected a mapping with a 'config:' mapping, as in Pulumi.<stack>.yaml"
        raise ConfigError([Problem(str(path), expected)])
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in (document.get("config") or {}).items():
        full_key = key if ":" in str(key) else f"{NAMESPACE}:{key}"
        plain, secret = _strip_secure(value)
        values[full_key] = plain if isinstance(plain, str) else json.dumps(plain)
        if secret:
            secret_keys.append(full_key)
    return values, secret_keys


def _strip_secure(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return SECRET_PLACEHOLDER, True
    if isinstance(value, dict):
        items = {k: _strip_secure(v) for k, v in value.items()}
        return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())
    if isinstance(value, list):
        elements = [_strip_secure(v) for v in value]
        return [v for v, _ in elements], any(s for _, s in elements)
    return value, False


def _decode(value: Any) -> Any:
    """Pulumi hands structured config values over as JSON text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _problem(error: Any) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return Problem(_path(loc), "unknown key" + _suggestion(loc))
    if kind == "missing":
        return Problem(_path(loc), "required key is missing")
    message = str(error["msg"]).removeprefix("Value error, ")
    return Problem(_path(loc), message)


def _suggestion(loc: tuple[int | str, ...]) -> str:
    known = _keys_at(LabConfig, loc[:-1])
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
        if field is None:
            return []
        current = _model_in(field.annotation)
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


def load_stack_file(path: Path) -> LabConfig:
    """Validate a stack file directly (tests, tools), without touching Pulumi's runtime."""
    values, _ = read_stack_file(path)
    return _lab_config_from(values)
