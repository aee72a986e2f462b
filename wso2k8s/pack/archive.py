"""Zip packs read safely: every entry is checked before a byte is written, then extracted by hand.

`zipfile.extractall` silently rewrites names it dislikes (`a/../../x` lands somewhere else than the entry
says) and writes a symlink as a file holding its target; the old chmod loop then followed the entry's own
name, outside the build folder. Here a pack is refused, naming the entry, when any entry is not a plain
relative path under the pack's one top folder, repeats another, is a device or FIFO, is encrypted, or is a
link that points outside the pack or that another entry would write through. Member data (CRC, truncation,
compression) is verified in a read-only pass before extraction starts.
"""

from __future__ import annotations

import os
import posixpath
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import PackError

# A link target is a short path; anything longer is not a link a pack needs.
MAX_LINK = 4096
# Errors zipfile raises on damaged members (bad CRC, truncated or corrupt data, unknown compression).
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError, OSError)
REDOWNLOAD = "download the pack again (the zip is damaged or was modified) and check its sha256"


@dataclass(frozen=True)
class Entry:
    info: zipfile.ZipInfo
    parts: tuple[str, ...]  # the path, split; parts[0] is the pack's top folder
    kind: Literal["file", "dir", "link"]
    mode: int  # permission bits only (setuid/setgid/sticky dropped); 0 when the zip records none
    link: str = ""  # a link's target, relative to the link's folder


def open_zip(path: Path) -> zipfile.ZipFile:
    """The zip, or a PackError saying why it cannot be read (never zipfile's own exceptions)."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise PackError(f"{path} is not a complete zip ({err}): truncated or damaged", REDOWNLOAD) from None
    except OSError as err:
        raise PackError(f"{path} cannot be read: {err.strerror}", "make the pack readable by this user") from None


def check_entries(zf: zipfile.ZipFile, path: Path) -> list[Entry]:
    """Every entry, checked; a PackError naming the first bad one. Reads only the central directory and
    link targets, so it is cheap enough to run on every preview."""
    entries: list[Entry] = []
    seen: dict[tuple[str, ...], str] = {}
    for info in zf.infolist():
        entry = _entry(zf, info, path)
        if entry.parts in seen:
            raise PackError(f"{path}: entry '{info.filename}' repeats '{seen[entry.parts]}'",
                            "use the pack as WSO2 ships it (each file once)")
        seen[entry.parts] = info.filename
        entries.append(entry)
    kinds = {e.parts: e.kind for e in entries}
    links = {e.parts for e in entries if e.kind == "link"}
    for e in entries:
        for end in range(1, len(e.parts)):
            prefix = e.parts[:end]
            if prefix in links:
                raise PackError(f"{path}: entry '{e.info.filename}' would be written through the link "
                                f"'{'/'.join(prefix)}'", "use the pack as WSO2 ships it")
            if kinds.get(prefix) == "file":
                raise PackError(f"{path}: entry '{e.info.filename}' is below '{'/'.join(prefix)}', which is a file",
                                "use the pack as WSO2 ships it")
        if e.kind == "link":
            _check_link(e, links, path)
    return entries


def verify_data(zf: zipfile.ZipFile, entries: list[Entry], path: Path) -> None:
    """Reads every member once (CRC and length checks of zipfile) and writes nothing."""
    for e in entries:
        if e.kind != "file":
            continue
        try:
            with zf.open(e.info) as member:
                while member.read(1 << 20):
                    pass
        except DAMAGE as err:
            raise PackError(f"{path}: entry '{e.info.filename}' is damaged ({err})", REDOWNLOAD) from None


def extract(zf: zipfile.ZipFile, entries: list[Entry], target: Path) -> None:
    """Writes the checked entries below `target`: folders, then files (created, never opened through an
    existing path), then links last, so no write can pass through a link."""
    for e in sorted(entries, key=lambda e: ("dir", "file", "link").index(e.kind)):
        dest = target.joinpath(*e.parts)
        if e.kind == "dir":
            dest.mkdir(parents=True, exist_ok=True)
        elif e.kind == "file":
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(e.info) as source, open(dest, "xb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
            except DAMAGE as err:
                raise PackError(f"entry '{e.info.filename}' could not be unpacked ({err})", REDOWNLOAD) from None
        else:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(e.link, dest)
        if e.mode and e.kind != "link":
            dest.chmod(e.mode | (0o700 if e.kind == "dir" else 0o600))  # the owner can always read and rewrite


def _entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path) -> Entry:
    name = info.filename

    def refuse(why: str) -> PackError:
        return PackError(f"{path}: entry '{name}' {why}", "use the pack as WSO2 ships it (unmodified)")

    if "\0" in name or "\\" in name:
        raise refuse("has a NUL or '\\' in its name")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise refuse("is an absolute path")
    parts = tuple(name.rstrip("/").split("/"))
    if any(p in ("", ".", "..") for p in parts):
        raise refuse("is not a plain relative path (it has '..', '.' or an empty part)")
    if info.flag_bits & 0x1:
        raise refuse("is encrypted")
    unix = info.external_attr >> 16
    file_type = stat.S_IFMT(unix)
    if file_type == stat.S_IFLNK:
        if info.file_size > MAX_LINK:
            raise refuse("is a link with an over-long target")
        try:
            link = zf.read(info).decode("utf-8")
        except (*DAMAGE, UnicodeDecodeError) as err:
            raise refuse(f"is a link whose target cannot be read ({err})") from None
        return Entry(info, parts, "link", 0, link)
    if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise refuse("is a device, FIFO or socket, not a file or folder")
    kind: Literal["file", "dir"] = "dir" if file_type == stat.S_IFDIR or name.endswith("/") else "file"
    return Entry(info, parts, kind, unix & 0o777)


def _check_link(e: Entry, links: set[tuple[str, ...]], path: Path) -> None:
    """A link's target must stay inside the pack's top folder, without passing through another link (whose
    own target would make the lexical check meaningless)."""
    name = e.info.filename.rstrip("/")
    if not e.link or "\0" in e.link or e.link.startswith("/"):
        raise PackError(f"{path}: entry '{name}' is a link to '{e.link}', outside the pack",
                        "use the pack as WSO2 ships it (links only within the pack)")
    resolved = posixpath.normpath(posixpath.join(*e.parts[:-1], e.link))
    parts = tuple(resolved.split("/"))
    if resolved.startswith("..") or parts[0] != e.parts[0] or len(parts) < 2:
        raise PackError(f"{path}: entry '{name}' is a link to '{e.link}', outside the pack's folder "
                        f"'{e.parts[0]}/'", "use the pack as WSO2 ships it (links only within the pack)")
    walked = list(e.parts[:-1])
    for step in e.link.split("/"):
        if step == "..":
            walked = walked[:-1]
        elif step not in ("", "."):
            walked = [*walked, step]
        if tuple(walked) in links:
            raise PackError(f"{path}: entry '{name}' is a link through another link ('{'/'.join(walked)}')",
                            "use the pack as WSO2 ships it")


def check_folder(base: Path) -> None:
    """An unpacked pack folder: links must resolve inside it; devices and FIFOs are refused."""
    root = base.resolve()
    for folder, dirs, files in os.walk(base, followlinks=False):
        for name in [*dirs, *files]:
            item = Path(folder) / name
            mode = item.lstat().st_mode
            relative = item.relative_to(base)
            if stat.S_ISLNK(mode):
                real = item.resolve()
                if real != root and root not in real.parents:
                    raise PackError(f"{base}: '{relative}' is a link to {os.readlink(item)}, outside the pack",
                                    "replace the link with the file it points to, or use the pack's zip")
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise PackError(f"{base}: '{relative}' is a device, FIFO or socket, not a file or folder",
                                "remove it, or use the pack's zip")
