"""Markers: `unit` tests run in seconds with no engine; `engine` tests use the real Docker, Kubernetes and
Pulumi engines (started once per session by the fixtures in tests/engine/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/unit/" in str(item.fspath):
            item.add_marker(pytest.mark.unit)
