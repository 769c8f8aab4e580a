"""Loading the stack config: one validation path for both sources.

`pulumi up` fills Pulumi's runtime config from the stack; `homelab plan`
fills the same runtime config from a stack file (`apply_stack_file`). Either
way `load_lab_config` reads the `homelab:` keys from there and validates them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from copy import deepcopy
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from config.messages import (
    Problem,
    bounded,
    describe,
    model_in,
    path_text,
    quoted,
    suggested_key,
    validation_problem,
)
from config.models import LabConfig
from config.rules import check_lab
from config.yaml_reader import Mapping as YamlMapping
from config.yaml_reader import YamlProblem, read_yaml

NAMESPACE = "homelab"
SECRET_PLACEHOLDER = "[secret]"
MAX_FILE_BYTES = 1024 * 1024
_SHAPE = "as in Pulumi.<stack>.yaml"


class ConfigError(Exception):
    """The stack config is invalid; `problems` holds one line per problem."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = bounded(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def parse_lab_config(raw: Mapping[str, Any]) -> LabConfig:
    """Validate the `homelab:` keys (namespace stripped) into a LabConfig.

    One run reports every problem it can. A required key given misspelt is one problem, the
    unknown key with its suggestion, not also "required key is missing". Problems of the shape
    do not hide the rules across keys when the rest can be read without them (`_rules_beside`).
    """
    try:
        config = LabConfig.model_validate(dict(raw))
    except ValidationError as error:
        errors = error.errors()
        meant = _meant_keys(errors)
        supplied = {(*loc[:-1], key) for loc, key in meant.items() if key is not None}
        problems = [
            validation_problem(item, LabConfig)
            for item in errors
            if not (item["type"] == "missing" and tuple(item["loc"]) in supplied)
        ]
        raise ConfigError([*problems, *_rules_beside(raw, errors, meant, supplied)]) from None
    problems = check_lab(config)
    if problems:
        raise ConfigError(problems)
    return config


Location = tuple[int | str, ...]


def _meant_keys(errors: Sequence[Any]) -> dict[Location, str | None]:
    """Each unknown key's location, with the required (missing) key beside it that it misspells, if any."""
    missing = {tuple(item["loc"]) for item in errors if item["type"] == "missing"}
    meant: dict[Location, str | None] = {}
    for item in errors:
        if item["type"] == "extra_forbidden":
            loc: Location = tuple(item["loc"])
            key = suggested_key(LabConfig, loc)
            meant[loc] = key if (*loc[:-1], key) in missing else None
    return meant


# Values that choose which rules apply: read as their default, the rules would judge another lab.
_SHAPING = ("network.fabric",)


def _rules_beside(
    raw: Mapping[str, Any], errors: Sequence[Any], meant: Mapping[Location, str | None], supplied: set[Location]
) -> list[Problem]:
    """The rules' problems of the config read as meant: unknown keys left out (or a misspelt required key under
    its name) and each wrong value that has a default left to it. A rule that names a wrong value is not
    reported (it would judge the default, not what was written); with a wrong value that has no default
    (a required key, a list item) the rules wait for the next run."""
    edits: dict[Location, str | None] = dict(meant)
    wrong: list[str] = []
    for item in errors:
        loc: Location = tuple(item["loc"])
        if item["type"] == "extra_forbidden" or loc in supplied:
            continue
        if not _has_default(loc) or path_text(loc) in _SHAPING:
            return []
        edits[loc] = None
        wrong.append(path_text(loc))
    try:
        config = LabConfig.model_validate(_read_as_meant(raw, edits))
    except (ValidationError, LookupError, TypeError):  # what is left is wrong as well, or not where it was
        return []
    return [problem for problem in check_lab(config) if not any(_names(problem, path) for path in wrong)]


def _has_default(loc: Location) -> bool:
    """Whether the key at `loc` may be left out: a field with a default, or an entry of a mapping of values."""
    model: type[BaseModel] | None = LabConfig
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, int):
            if last:
                return False  # leaving out a list item would move the items after it
            continue
        if model is None:
            return last  # a key of a mapping of plain values (`network.bridgePorts.<host>`)
        field = {field.alias or name: field for name, field in model.model_fields.items()}.get(part)
        if field is None:
            return False
        if last:
            return not field.is_required()
        model = model_in(field.annotation)
    return False


def _names(problem: Problem, path: str) -> bool:
    return path in problem.message or any(
        one == other or one.startswith((other + ".", other + "["))
        for one, other in ((problem.path, path), (path, problem.path))
    )


def _read_as_meant(raw: Mapping[str, Any], edits: Mapping[Location, str | None]) -> dict[str, Any]:
    """A copy of `raw` with the key at each location left out, or renamed to the key given for it."""
    copy: Any = deepcopy(dict(raw))
    for location, key in edits.items():
        parent = copy
        for part in location[:-1]:
            parent = parent[part]
        value = parent.pop(location[-1])
        if key is not None:
            parent[key] = value
    return copy


def load_lab_config() -> LabConfig:
    """The LabConfig of the stack Pulumi is running (or `apply_stack_file` set)."""
    from pulumi.runtime import config as runtime_config

    return _lab_config_from({**runtime_config.get_config_env(), **runtime_config.CONFIG.get()})


def _lab_config_from(values: Mapping[str, Any]) -> LabConfig:
    """The `homelab:` keys of a full config map, validated; a misspelt namespace is a problem too.

    A section under a misspelt namespace (`homelb:cluster`) is still read as meant, so the
    problems of its values show in the same run instead of "required key is missing".
    """
    prefix = f"{NAMESPACE}:"
    raw = {key.removeprefix(prefix): _decode(value) for key, value in values.items() if key.startswith(prefix)}
    misspelt = [
        key
        for key in sorted(values)
        if ":" in key and key.partition(":")[0] != NAMESPACE and _close_to_namespace(key.partition(":")[0])
    ]
    problems = [
        Problem(path_text([key]), f"unknown namespace (did you mean {quoted(prefix + key.partition(':')[2])}?)")
        for key in misspelt
    ]
    sections = {field.alias or name for name, field in LabConfig.model_fields.items()}
    for key in misspelt:
        section = key.partition(":")[2]
        if section in sections and section not in raw:
            raw[section] = _decode(values[key])
    try:
        config = parse_lab_config(raw)
    except ConfigError as error:
        raise ConfigError([*problems, *error.problems]) from None
    if problems:
        raise ConfigError(problems)
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
    config = _config_mapping(path, _document(path))
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    problems: list[Problem] = []
    written: dict[str, str] = {}
    for key, value in config.items():
        full_key = key if ":" in key else f"{NAMESPACE}:{key}"
        if full_key in written:
            line, column = config.lines[key]
            earlier = f"{quoted(written[full_key])} on line {config.lines[written[full_key]][0]}"
            message = f"key {quoted(key)} is {quoted(full_key)}, also given as {earlier}"
            problems.append(Problem(f"{path}:{line}:{column}", message))
        written[full_key] = key
        plain, secret = _strip_secure(value)
        values[full_key] = plain if isinstance(plain, str) else json.dumps(plain)
        if secret:
            secret_keys.append(full_key)
    if problems:
        raise ConfigError(problems)
    return values, secret_keys


def _document(path: Path) -> Any:
    """The stack file's YAML document; any problem with its bytes as one line naming the file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError([Problem(str(path), f"{size} bytes; a stack file is at most {MAX_FILE_BYTES} bytes")])
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError([Problem(str(path), f"cannot read the stack file: {error.strerror}")]) from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ConfigError([Problem(str(path), "the file is UTF-16 text; save it as UTF-8")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        byte = data[error.start]
        message = f"not UTF-8 text (byte 0x{byte:02x} at offset {error.start}); save the file as UTF-8"
        raise ConfigError([Problem(str(path), message)]) from None
    try:
        return read_yaml(text)
    except YamlProblem as problem:
        message = f"{_key_path(problem.keys)}: {problem.message}" if problem.keys else problem.message
        raise ConfigError([Problem(f"{path}:{problem.line}:{problem.column}", message)]) from None


def _key_path(keys: Sequence[int | str]) -> str:
    """YAML keys in the words of the problems: `config`, `homelab:cluster`, `workers` is `cluster.workers`."""
    if len(keys) > 1 and keys[0] == "config":
        first = str(keys[1])
        return path_text([first.removeprefix(f"{NAMESPACE}:"), *keys[2:]])
    return path_text(keys)


def _config_mapping(path: Path, document: Any) -> YamlMapping:
    if document is None:
        raise ConfigError([Problem(str(path), f"the file is empty; a stack file has a 'config:' mapping, {_SHAPE}")])
    if not isinstance(document, YamlMapping):
        message = f"expected a mapping with a 'config:' mapping, {_SHAPE}; got {describe(document)}"
        raise ConfigError([Problem(str(path), message)])
    if "config" not in document:
        namespaced = [key for key in document if ":" in key]
        if namespaced:
            listed = ", ".join(namespaced[:3]) + (", ..." if len(namespaced) > 3 else "")
            message = f"no top-level 'config:' key; {listed} belong indented under 'config:', {_SHAPE}"
        else:
            message = f"no top-level 'config:' key; a stack file keeps its settings under 'config:', {_SHAPE}"
        raise ConfigError([Problem(str(path), message)])
    config = document["config"]
    if not isinstance(config, YamlMapping):
        line, column = document.lines["config"]
        message = f"'config' must be a mapping of keys (homelab:network, ...), got {describe(config)}"
        raise ConfigError([Problem(f"{path}:{line}:{column}", message)])
    return config


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
    """Pulumi hands structured config values over as JSON text (and YAML's null as `null`)."""
    if value == "null":
        return None
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):  # not JSON after all, or nested beyond the parser
            return value
    return value


def load_stack_file(path: Path) -> LabConfig:
    """Validate a stack file directly (tests, tools), without touching Pulumi's runtime."""
    values, _ = read_stack_file(path)
    return _lab_config_from(values)
