"""The stack config: models, cross-field rules, loading and derived guests."""

from config.guests import Guest, Role, derive_mac, lab_guests
from config.loading import ConfigError, apply_stack_file, load_lab_config, parse_lab_config
from config.models import LabConfig

__all__ = [
    "ConfigError",
    "Guest",
    "LabConfig",
    "Role",
    "apply_stack_file",
    "derive_mac",
    "lab_guests",
    "load_lab_config",
    "parse_lab_config",
]
