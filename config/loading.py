"""Loading the stack config: one validation path for both sources.

`pulumi up` fills Pulumi's runtime config from the stack; `homelab plan`
fills the same runtime config from a stack file (`apply_stack_file`). Either
way `load_lab_config` reads the `homelab:` keys from there and validates them.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config.messages import Problem, bounded, describe, path_text, quoted, validation_problem
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
    """Validate the `homelab:` keys (namespace stripped) into a LabConfig."""
    try:
        config = LabConfig.model_validate(dict(raw))
    except ValidationError as error:
        raise ConfigError([validation_problem(item, LabConfig) for item in error.errors()]) from None
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
        Problem(
            path_text([key]), f"unknown namespace (did you mean {quoted(NAMESPACE + ':' + key.partition(':')[2])}?)"
        )
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
        raise ConfigError([Problem(f"{path}:{problem.line}:{problem.column}", problem.message)]) from None


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
