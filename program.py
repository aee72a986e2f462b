"""The program, top to bottom: settings (hieradata + the stack's config) → inputs checked and build contexts
written → the graph of components → stack outputs. `__main__.py` runs it under Pulumi; tests call `deploy`.
The components (components/) get only what they need; nothing below here reads the environment."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from components.entry import entry_problems
from components.graph import StackGraph, build_graph, export_outputs
from wso2k8s.prepare import prepare
from wso2k8s.settings import SettingsError, StackSettings, load_stack_settings


def deploy(project_dir: Path, stack_name: str, values: dict[str, Any], secret_keys: set[str],
           build_dir: Path | None = None) -> StackGraph:
    """Raises SettingsError before registering anything when the settings or the files they name are wrong."""
    stack = with_exported_kubeconfig(load_stack_settings(project_dir, stack_name, values, secret_keys))
    missing = entry_problems(stack)
    if missing:
        raise SettingsError(missing)
    prepared = prepare(stack, project_dir, build_dir or project_dir / "build")
    graph = build_graph(prepared)
    export_outputs(graph, prepared)
    return graph


def with_exported_kubeconfig(stack: StackSettings) -> StackSettings:
    """A stack that names no kubeconfig uses the one the tools export (KUBECONFIG: tools/engines.sh prints the
    local cluster's), the first of a list; as a path, so no credential lands in the state."""
    exported = (os.environ.get("KUBECONFIG") or "").split(os.pathsep)[0]
    if not exported:
        return stack
    profiles = [s if s.kubernetes.kubeconfig else s.model_copy(update={
        "kubernetes": s.kubernetes.model_copy(update={"kubeconfig": exported})}) for s in stack.profiles]
    return dataclasses.replace(stack, profiles=profiles)
