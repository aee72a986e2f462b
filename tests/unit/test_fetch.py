"""Packs from a URL (pack.source: url): fetched once from a loopback HTTP server, checked, cached by sha256."""

from __future__ import annotations

import functools
import hashlib
import http.server
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.helpers import PROJECT_DIR, stack_settings
from wso2k8s import fetch, prepare
from wso2k8s.settings import SettingsError

pytestmark = pytest.mark.unit


class Server:
    def __init__(self, root: Path) -> None:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.requests = 0
        original = self.httpd.finish_request

        def counted(*args: object) -> None:
            self.requests += 1
            original(*args)  # type: ignore[arg-type]

        self.httpd.finish_request = counted  # type: ignore[method-assign]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    server = Server(root)
    yield server, root
    server.httpd.shutdown()


def test_fetched_once_then_from_the_cache(served: tuple[Server, Path], tmp_path: Path) -> None:
    server, root = served
    data = b"PK\x03\x04" + bytes(range(256)) * 4096  # ~1 MiB
    (root / "pack.zip").write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    started = time.monotonic()
    first = fetch.fetched(server.url("pack.zip"), sha, cache=tmp_path / "cache")
    cold = time.monotonic() - started
    started = time.monotonic()
    again = fetch.fetched(server.url("pack.zip"), sha, cache=tmp_path / "cache")
    cached = time.monotonic() - started
    assert first == again == tmp_path / "cache" / sha / "pack.zip" and first.read_bytes() == data
    assert server.requests == 1  # the second call did not touch the network
    print(f"\nfetch 1 MiB from loopback: cold {cold * 1000:.1f} ms, cached {cached * 1000:.2f} ms")


def test_a_wrong_checksum_is_refused_and_nothing_is_kept(served: tuple[Server, Path], tmp_path: Path) -> None:
    server, root = served
    (root / "pack.zip").write_bytes(b"not the pack")
    with pytest.raises(fetch.FetchError, match=r"has sha256 [0-9a-f]{64}, not the configured one"):
        fetch.fetched(server.url("pack.zip"), "0" * 64, cache=tmp_path / "cache")
    assert not any((tmp_path / "cache").rglob("*.zip")) and not any((tmp_path / "cache").rglob(".part-*"))


def test_unreachable_or_plain_http_urls_say_why(served: tuple[Server, Path], tmp_path: Path) -> None:
    server, _ = served
    with pytest.raises(fetch.FetchError, match=r"could not download .*missing\.zip"):
        fetch.fetched(server.url("missing.zip"), "0" * 64, cache=tmp_path)
    with pytest.raises(fetch.FetchError, match="is not an https:// URL"):
        fetch.fetched("http://example.com/pack.zip", "0" * 64, cache=tmp_path)


def test_prepare_takes_a_pack_from_a_url(served: tuple[Server, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    server, root = served
    stock = stack_settings(stack="u", pack={"source": "synthetic"}, keystore_password="wso2carbon")
    synthetic_zip, files_dir = prepare._synthetic(stock.profiles[0], tmp_path / "synthetic")
    (root / "wso2is-5.1.0.zip").write_bytes(synthetic_zip.read_bytes())
    sha = hashlib.sha256(synthetic_zip.read_bytes()).hexdigest()
    monkeypatch.setattr(fetch, "CACHE", tmp_path / "cache")
    monkeypatch.setattr(prepare, "fetched", functools.partial(fetch.fetched, cache=tmp_path / "cache"))
    pack = {"source": "url", "url": server.url("wso2is-5.1.0.zip"), "sha256": sha}
    stack = stack_settings(stack="u", pack=pack, files_dir=str(files_dir), keystore_password="wso2carbon",
                           base_image={"java": {"allow_unsupported_version": True}})
    prepared = prepare.prepare(stack, PROJECT_DIR, tmp_path / "build")
    assert prepared.profiles[0].pack.path == tmp_path / "cache" / sha / "wso2is-5.1.0.zip"
    bad = stack_settings(stack="u", pack={**pack, "sha256": "1" * 64}, files_dir=str(files_dir),
                         keystore_password="wso2carbon", base_image={"java": {"allow_unsupported_version": True}})
    with pytest.raises(SettingsError, match=r"wso2-kubernetes:pack.url \(Pulumi.u.yaml\): .* not the configured one"):
        prepare.prepare(bad, PROJECT_DIR, tmp_path / "build2")
