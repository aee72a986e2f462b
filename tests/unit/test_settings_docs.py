"""Settings are documented in the schema, and the README's table is the schema's."""

from __future__ import annotations

from tests.unit.helpers import PROJECT_DIR
from wso2k8s.settings.docs import rows, settings_table


def test_every_setting_has_a_description() -> None:
    undocumented = [key for key, _, text in rows() if not text.strip()]
    assert undocumented == [], "add Field(description=…) in wso2k8s/settings/schema.py for these"


def test_the_readme_table_is_generated_from_the_schema() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    assert settings_table() in readme, "run: python -m wso2k8s.settings.docs"
    assert "| `workload.replicas` |" in readme and "| `ports.*.node_port` |" in readme
