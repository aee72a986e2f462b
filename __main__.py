"""wso2-kubernetes: settings (hieradata + this stack's config) → checked inputs → the graph → outputs."""

from pathlib import Path

import pulumi

from program import deploy
from wso2k8s.settings import SettingsError
from wso2k8s.settings.stack_config import stack_config

try:
    values, secret_keys = stack_config()
    deploy(Path(__file__).parent, pulumi.get_stack(), values, secret_keys)
except SettingsError as err:
    # Every problem with its key, layer and fix, instead of a traceback; nothing was registered.
    raise pulumi.RunError(str(err)) from None
