"""Settings: hieradata layers + the stack's config, merged with provenance and validated."""

from .errors import Problem, SettingsError
from .loader import Secrets, StackSettings, load_stack_settings
from .schema import PortSpec, Settings

__all__ = ["PortSpec", "Problem", "Secrets", "Settings", "SettingsError", "StackSettings", "load_stack_settings"]
