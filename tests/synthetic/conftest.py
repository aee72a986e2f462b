"""Fixtures for the synthetic-pack tests (they compile Java, run keytool and start real servers)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # synthetic_helpers, whatever pytest's import mode

from wso2k8s.synthetic.pack import extract_pack, make_pack
from wso2k8s.synthetic.runner import ServerProcess, pick_free_offset


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "engine: runs real processes (javac, keytool, java servers)")


@pytest.fixture(scope="session")
def pack_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default pack (keystore password wso2carbon), built once per session."""
    return make_pack(tmp_path_factory.mktemp("pack"))


@pytest.fixture
def carbon_home(pack_zip: Path, tmp_path: Path) -> Path:
    """A fresh unpacked copy of the default pack for one test to edit."""
    return extract_pack(pack_zip, tmp_path / "unpacked")


@pytest.fixture
def offset() -> int:
    return pick_free_offset()


@pytest.fixture
def servers():
    """Call with ServerProcess arguments; every server started is stopped at teardown."""
    started: list[ServerProcess] = []

    def start(home: Path, *, wait: bool = True, **kwargs) -> ServerProcess:
        proc = ServerProcess(home, **kwargs)
        started.append(proc)
        return proc.start(wait=wait)

    yield start
    for proc in started:
        proc.stop()
