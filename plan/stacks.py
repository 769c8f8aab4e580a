"""Finding stack files by stack name, and starting a new stack from the example.

A stack name (`--stack dev`) means `Pulumi.dev.yaml` in the project folder: the nearest
folder holding `Pulumi.yaml` from where the user is, else this checkout. So
`homelab/dev plan` works from the folder above the checkout, and `--config-file` paths
stay relative to where the user is.
"""

from __future__ import annotations

import re
from pathlib import Path

PROJECT_FILE = "Pulumi.yaml"
EXAMPLE_STACK = "dev"
CHECKOUT = Path(__file__).resolve().parent.parent
# Pulumi's stack names: letters, digits, `-`, `_` and `.`.
_STACK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_STACK_FILE_NAME = re.compile(r"^Pulumi\.(?P<name>.+)\.ya?ml$")
# What must not travel to another stack: its secrets' salt and its encrypted values.
_ENCRYPTION_SALT = re.compile(r"^encryptionsalt:.*\n", re.MULTILINE)
_SECURE_INLINE = re.compile(r"^[ \t]+[^\s#]\S*:[ \t]*\{[ \t]*secure:.*\n", re.MULTILINE)
_SECURE_BLOCK = re.compile(r"^([ \t]+)[^\s#]\S*:[ \t]*\n\1[ \t]+secure:.*\n", re.MULTILINE)


class StackError(Exception):
    """A stack name that names no usable stack file; the message is one line."""


def project_dir(start: Path | None = None) -> Path:
    """The nearest folder with `Pulumi.yaml` from `start` (default: here) upwards, else this checkout."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return CHECKOUT if (CHECKOUT / PROJECT_FILE).is_file() else here


def stack_names(project: Path) -> list[str]:
    """The stacks that have a stack file in the project folder, sorted."""
    names = (_STACK_FILE_NAME.match(path.name) for path in project.glob("Pulumi.*.y*ml"))
    return sorted({match["name"] for match in names if match})


def stack_name(given: str) -> str:
    """A stack name; `Pulumi.lab2.yaml` (the file's name) is read as `lab2`."""
    if "/" in given or "\\" in given:
        raise StackError(f"--stack takes a stack name such as {EXAMPLE_STACK}; for a file use --config-file {given}")
    match = _STACK_FILE_NAME.match(given)
    name = match["name"] if match else given
    if not _STACK_NAME.match(name):
        raise StackError(f"{given!r} is not a stack name (letters, digits, '-', '_' and '.')")
    return name


def stack_file(given: str, project: Path) -> tuple[str, Path]:
    """The stack's name and its existing file, or a StackError listing the stacks there are."""
    name = stack_name(given)
    path = project / f"Pulumi.{name}.yaml"
    if path.is_file():
        return name, path
    existing = ", ".join(stack_names(project)) or "none"
    raise StackError(f"no stack {name}: {path} does not exist (stacks in {project}: {existing})")


def stack_or_file(argument: str, project: Path) -> Path:
    """A stack name (its file in the project folder, or a StackError in `stack_file`'s words) or a stack file.

    A `.yaml`/`.yml` name or a path is always a file; so is an existing file that is no stack's name.
    """
    path = Path(argument)
    if path.suffix in (".yaml", ".yml") or "/" in argument or "\\" in argument:
        return path
    if path.is_file() and not (project / f"Pulumi.{argument}.yaml").is_file():
        return path
    return stack_file(argument, project)[1]


def stack_source(stack: str, config_file: Path | None) -> tuple[str, Path]:
    """The stack's name and file: `--config-file` as given (from here), else `--stack` in the project folder."""
    if config_file is not None:
        return config_file.stem.removeprefix("Pulumi."), config_file
    name, path = stack_file(stack, project_dir())
    here = Path.cwd().resolve()
    return name, path.relative_to(here) if path.is_relative_to(here) else path


def new_stack_text(example: str) -> str:
    """The example stack file for another stack: the same topology, none of its secrets."""
    text = _ENCRYPTION_SALT.sub("", example)
    text = _SECURE_BLOCK.sub("", text)
    return _SECURE_INLINE.sub("", text)


def init_stack(given: str, project: Path) -> Path:
    """Write `Pulumi.<name>.yaml` from the example stack; never overwrite a stack file."""
    name = stack_name(given)
    target = project / f"Pulumi.{name}.yaml"
    if target.exists():
        raise StackError(f"{target} already exists: edit it, or choose another name")
    _, example = stack_file(EXAMPLE_STACK, project)
    with target.open("x", encoding="utf-8") as out:  # "x": a file created meanwhile is not overwritten
        out.write(new_stack_text(example.read_text(encoding="utf-8")))
    return target
