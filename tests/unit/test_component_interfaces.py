"""Components are given values, not the settings (issue 12): each one's Args list what it uses, and only
components/graph.py, which wires them, reads a profile's Settings to fill them in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
COMPONENTS = Path(__file__).resolve().parents[2] / "components"
WIRING = "graph.py"
# The per-profile settings object, and its workload section (what several components read parts of). Small
# value types of the schema (Resources, Probes, ImageBuild, Toleration, …) are what a component uses, as they are.
WHOLE = {"Settings", "Workload"}


def _settings_imports(path: Path) -> set[str]:
    """Names a module imports from wso2k8s.settings (a module imported whole counts as itself)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("wso2k8s.settings"):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("wso2k8s.settings")}
    return names


def test_no_component_but_the_wiring_imports_the_settings_object() -> None:
    found = {p.name: sorted(n for n in _settings_imports(p) if n in WHOLE or n.startswith("wso2k8s."))
             for p in sorted(COMPONENTS.glob("*.py")) if p.name != WIRING}
    assert {name: names for name, names in found.items() if names} == {}
    assert "Settings" in _settings_imports(COMPONENTS / WIRING)  # the check sees an import where there is one
