"""Entry point for `pulumi up` / `preview` / `destroy`: load the stack config, build the lab, export."""

import pulumi

from components.lab import build, stack_outputs
from config import ConfigError, load_lab_config

try:
    lab_config = load_lab_config()
except ConfigError as error:
    # RunError is the SDK's documented way to stop a program with a message and no stack trace;
    # each problem is the same one-line message `homelab plan` prints.
    raise pulumi.RunError(f"invalid config:\n{error}") from None

for output_name, value in stack_outputs(build(lab_config)).items():
    pulumi.export(output_name, value)
