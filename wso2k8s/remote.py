"""Files a stack names by URL, made local before anything checks them: `base_image.java.archive` given as an
https:// URL (checked by `archive_sha256`) and `file_urls` (a file_list jar from a URL, with its sha256).

Each is fetched once into the cache (wso2k8s/fetch.py) and from then on read from there, so a CI runner needs
no file that lives only on a developer's laptop. The settings come back pointing at local files: the archive at
its cached copy; `files_dir` at a folder in the build folder holding every file_list jar (links to the cached
downloads and to the jars of the original files_dir), so every later step reads `files_dir/<entry>` as before.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from .fetch import FetchError, fetched, url_problem
from .settings import Problem, Settings, StackSettings

Fetch = Callable[[str, str], Path]


def is_url(text: str) -> bool:
    return "://" in text


def localised(stack: StackSettings, project_dir: Path, build_dir: Path, problems: list[Problem],
              fetch: Fetch = fetched) -> tuple[StackSettings, set[str]]:
    """The stack with every URL-named file local, and the keys of the problems already reported here (so the
    file checks that follow do not report a missing jar twice)."""
    reported: set[str] = set()
    profiles = [_profile(stack, s, project_dir, build_dir / stack.stack / f"{s.profile}-files", problems,
                         reported, fetch) for s in stack.profiles]
    return dataclasses.replace(stack, profiles=profiles), reported


def _profile(stack: StackSettings, s: Settings, project_dir: Path, out: Path, problems: list[Problem],
             reported: set[str], fetch: Fetch) -> Settings:
    def problem(key: str, message: str, fix: str) -> None:
        problems.append(stack.problem(s.profile, key, message, fix))
        reported.add(key)

    java = s.base_image.java
    if java.source == "archive" and java.archive and java.archive_sha256 and is_url(java.archive):
        try:
            archive = fetch(java.archive, java.archive_sha256)
        except FetchError as err:
            problem("base_image.java.archive", err.message,
                    f"{err.fix}; base_image.java.archive_sha256 is what `sha256sum` prints for the JDK archive")
        else:
            s = s.model_copy(update={"base_image": s.base_image.model_copy(update={
                "java": java.model_copy(update={"archive": str(archive)})})})
    if not s.file_urls:
        return s
    files_dir = Path(s.files_dir).expanduser()
    files_dir = files_dir if files_dir.is_absolute() else project_dir / files_dir
    sources: dict[str, Path] = {}
    for entry, remote in s.file_urls.items():
        if entry not in s.file_list:
            problem(f"file_urls.{entry}", "names a file that is not in file_list",
                    f"add {entry} to file_list, or remove it from file_urls")
        elif why := url_problem(remote.url):
            problem(f"file_urls.{entry}.url", why, "serve the jar over https:// (or a loopback http:// mirror)")
        else:
            try:
                sources[entry] = fetch(remote.url, remote.sha256)
            except FetchError as err:
                problem(f"file_urls.{entry}", err.message,
                        f"{err.fix}; file_urls.<jar>.sha256 is what `sha256sum` prints for the jar")
    for i, entry in enumerate(s.file_list):
        if entry in s.file_urls:
            continue
        if (files_dir / entry).is_file():
            sources[entry] = files_dir / entry
        else:
            problem(f"file_list[{i}]", f"{entry} is not in {files_dir}",
                    f"copy the jar to {files_dir / entry}, or give it in file_urls (url, sha256); files_dir "
                    f"is '{s.files_dir}'")
    shutil.rmtree(out, ignore_errors=True)
    for entry, source in sources.items():
        (out / entry).parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(source, out / entry)
    return s.model_copy(update={"files_dir": str(out)})


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # another file system
        shutil.copyfile(source, target)
