"""Artifacts from where a CI runner can reach them: `pack: {source: url, url: https://…, sha256: …}`.

Fetched once into a cache keyed by the sha256 (`$WSO2K8S_CACHE/artifacts/<sha256>/<file name>`), checked
before it is kept, and taken from the cache afterwards without any network. Plain http:// is allowed only on
loopback (a local mirror, the tests' server); anything else must be https://.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

CACHE = Path(os.environ.get("WSO2K8S_CACHE", "/var/cache/wso2-kubernetes")) / "artifacts"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class FetchError(Exception):
    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message, self.fix = message, fix


def url_problem(url: str) -> str | None:
    """Why a URL cannot be used (None if it can)."""
    parsed = urlparse(url)
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and parsed.hostname in LOOPBACK:
        return None
    return f"'{url}' is not an https:// URL (plain http:// only on loopback)"


def fetched(url: str, sha256: str, cache: Path = CACHE, timeout: float = 60) -> Path:
    """The local path of the artifact at `url` whose sha256 is `sha256`: from the cache, else downloaded,
    checked, then kept. Raises FetchError (message, fix) when it cannot be had or is not that file."""
    problem = url_problem(url)
    if problem:
        raise FetchError(problem, "serve the pack over https:// (or a loopback http:// mirror)")
    name = Path(urlparse(url).path).name or "artifact"
    target = cache / sha256 / name
    if target.is_file():  # kept only after its checksum matched; the key is the checksum
        return target
    try:
        actual = download_checked(url, sha256, target, timeout)
    except OSError as err:  # urllib's URLError is one
        raise FetchError(f"could not download {url}: {getattr(err, 'reason', err)}",
                         "check the URL and that this machine (or runner) can reach it") from None
    if actual is not None:
        raise FetchError(f"{url} has sha256 {actual}, not the configured one",
                         "check the file at the URL; set pack.sha256 to what `sha256sum` prints for it")
    return target


def download_checked(url: str, sha256: str, target: Path, timeout: float = 60) -> str | None:
    """Download `url` to `target` only if its sha256 is `sha256`: None then; otherwise the digest it had, and
    nothing is kept. Written beside the target and renamed, so a half download is never taken for the file.
    Network and disk errors propagate as OSError."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".part-", delete=False) as part:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                while chunk := resp.read(1 << 20):
                    digest.update(chunk)
                    part.write(chunk)
        except OSError:
            Path(part.name).unlink(missing_ok=True)
            raise
    if digest.hexdigest() != sha256:
        Path(part.name).unlink(missing_ok=True)
        return digest.hexdigest()
    os.replace(part.name, target)
    return None
