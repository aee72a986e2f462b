"""Packs from a URL (pack.source: url): fetched once from a loopback HTTP server, checked, cached by sha256."""

from __future__ import annotations

import functools
import hashlib
import http.server
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.crafted import jdk_archive
from tests.unit.helpers import PROJECT_DIR, stack_settings
from wso2k8s import fetch, prepare, remote
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


# ---------------------------------------------------------------- the JDK archive and file_list jars by URL

SCHEME = "repository/components/lib/kubernetes-membership-scheme-1.0.5.jar"
DNSJAVA = "repository/components/lib/dnsjava-2.1.8.jar"


@pytest.fixture
def url_world(served: tuple[Server, Path], tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> tuple[Server, Path, dict[str, Any], Path]:
    """A pack served on loopback, the synthetic file_list jars beside it, an empty cache."""
    server, root = served
    stock = stack_settings(stack="u", pack={"source": "synthetic"}, keystore_password="wso2carbon")
    synthetic_zip, files_dir = prepare._synthetic(stock.profiles[0], tmp_path / "synthetic")
    (root / "wso2is-5.1.0.zip").write_bytes(synthetic_zip.read_bytes())
    monkeypatch.setattr(remote, "fetched", functools.partial(fetch.fetched, cache=tmp_path / "cache"))
    monkeypatch.setattr(prepare, "localised", functools.partial(remote.localised,
                                                                fetch=functools.partial(fetch.fetched,
                                                                                        cache=tmp_path / "cache")))
    monkeypatch.setattr(prepare, "fetched", functools.partial(fetch.fetched, cache=tmp_path / "cache"))
    pack = {"source": "url", "url": server.url("wso2is-5.1.0.zip"),
            "sha256": hashlib.sha256(synthetic_zip.read_bytes()).hexdigest()}
    return server, root, pack, files_dir


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_jdk_archive_and_a_jar_from_urls_are_fetched_once_and_reach_the_images(
        url_world: tuple[Server, Path, dict[str, Any], Path], tmp_path: Path) -> None:
    server, root, pack, files_dir = url_world
    jdk = jdk_archive(root / "jdk-17.tar.gz", version="17.0.2", top="jdk-17.0.2")
    (root / "scheme.jar").write_bytes((files_dir / SCHEME).read_bytes())
    only_dnsjava = tmp_path / "laptop-files"  # what is left on disk: the scheme jar comes from its URL
    (only_dnsjava / DNSJAVA).parent.mkdir(parents=True)
    (only_dnsjava / DNSJAVA).write_bytes((files_dir / DNSJAVA).read_bytes())
    config = {"pack": pack, "files_dir": str(only_dnsjava), "keystore_password": "wso2carbon",
              "file_urls": {SCHEME: {"url": server.url("scheme.jar"), "sha256": _sha(root / "scheme.jar")}},
              "base_image": {"java": {"source": "archive", "archive": server.url("jdk-17.tar.gz"),
                                      "archive_sha256": _sha(jdk), "allow_unsupported_version": True}}}
    prepared = prepare.prepare(stack_settings(stack="u", **config), PROJECT_DIR, tmp_path / "build")
    assert (prepared.base_context / "jdk.tar.gz").read_bytes() == jdk.read_bytes()
    overlay = next((prepared.profiles[0].product_context / "overlay").iterdir())
    assert (overlay / SCHEME).read_bytes() == (root / "scheme.jar").read_bytes()
    assert (overlay / DNSJAVA).read_bytes() == (only_dnsjava / DNSJAVA).read_bytes()
    requests = server.requests
    assert requests == 3  # pack, JDK, jar: once each
    prepare.prepare(stack_settings(stack="u", **config), PROJECT_DIR, tmp_path / "build")
    assert server.requests == requests  # the second preview reads them from the cache


def test_bad_urls_checksums_and_names_in_file_urls_are_said_with_their_keys(
        url_world: tuple[Server, Path, dict[str, Any], Path], tmp_path: Path) -> None:
    server, root, pack, _ = url_world
    jdk = jdk_archive(root / "jdk-17.tar.gz", version="17.0.2", top="jdk-17.0.2")
    config = {"pack": pack, "files_dir": str(tmp_path / "empty"), "keystore_password": "wso2carbon",
              "file_urls": {SCHEME: {"url": server.url("missing.jar"), "sha256": "a" * 64},
                            "repository/components/lib/other.jar": {"url": server.url("x.jar"), "sha256": "a" * 64}},
              "base_image": {"java": {"source": "archive", "archive": server.url("jdk-17.tar.gz"),
                                      "archive_sha256": "b" * 64, "allow_unsupported_version": True}}}
    with pytest.raises(SettingsError) as caught:
        prepare.prepare(stack_settings(stack="u", **config), PROJECT_DIR, tmp_path / "build")
    text = str(caught.value)
    assert re.search(r"base_image\.java\.archive \(Pulumi\.u\.yaml\): .*jdk-17\.tar\.gz has sha256 "
                     rf"{_sha(jdk)}, not the configured one", text), text
    assert re.search(rf"file_urls\.{re.escape(SCHEME)}.*could not download .*missing\.jar", text), text
    assert "file_urls.repository/components/lib/other.jar" in text and "is not in file_list" in text
    # dnsjava is neither on disk nor in file_urls: said once, naming the user's files_dir, not the build folder
    assert text.count(DNSJAVA + " is not in") == 1 and f"is not in {tmp_path / 'empty'}" in text, text
    assert not (tmp_path / "build" / "u" / "default").exists()  # no build context was written
