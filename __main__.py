"""Entry point for `pulumi up` / `preview` / `destroy`: load the stack config, build the lab, export."""

import sys

import pulumi

from components.lab import build, stack_outputs
from config import ConfigError, load_lab_config

try:
    lab_config = load_lab_config()
except ConfigError as error:
    for problem in error.problems:
        pulumi.log.error(str(problem))
    sys.exit(2)

for output_name, value in stack_outputs(build(lab_config)).items():
    pulumi.export(output_name, value)
