"""Look at a product pack (zip or unpacked folder) and say what it is, or why it is not a usable pack."""

from __future__ import annotations

import hashlib
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .archive import DAMAGE, REDOWNLOAD, check_entries, check_folder, open_zip
from .errors import PackError

CARBON_NS = "http://wso2.org/projects/carbon/carbon.xml"
REQUIRED = ("bin/wso2server.sh", "repository/conf/carbon.xml", "repository/conf/axis2/axis2.xml",
            "repository/components/lib")


@dataclass(frozen=True)
class PackInfo:
    path: Path
    root: str  # the pack's top folder, e.g. wso2is-5.1.0
    name: str  # carbon.xml <Name>
    server_key: str  # carbon.xml <ServerKey>
    version: str  # carbon.xml <Version>
    sha256: str  # of the zip, or of the folder's file list and contents


def inspect_pack(path: Path) -> PackInfo:
    """What the pack is; a PackError (never another exception) when it is missing, unreadable, unsafe to
    unpack or not a Carbon pack."""
    try:
        return _inspect(path)
    except PackError:
        raise
    except (OSError, UnicodeError) as err:
        raise PackError(f"{path} cannot be read: {err}", "make the pack and every file in it readable") from None


def _inspect(path: Path) -> PackInfo:
    if not path.exists():
        raise PackError(f"{path} does not exist", "download the product zip and point pack.path at it")
    if path.is_dir():
        return _inspect_dir(path)
    if not zipfile.is_zipfile(path):
        with path.open("rb") as f:
            if f.read(4) == b"PK\x03\x04":
                raise PackError(f"{path} is not a complete zip: truncated or damaged", REDOWNLOAD)
        raise PackError(f"{path} is neither a zip nor a folder", "use the product's .zip as WSO2 ships it")
    with open_zip(path) as zf:
        entries = check_entries(zf, path)
        names = [e.info.filename for e in entries]
        root = _single_root(names, path)
        present = set(names) | {n.rstrip("/") for n in names} | {_parent(n) for n in names}
        missing = [f for f in REQUIRED if f"{root}/{f}" not in present]
        if missing:
            raise PackError(f"{path} lacks {', '.join(missing)}: not a WSO2 Carbon pack",
                            "use the product zip as downloaded from WSO2 (unmodified layout)")
        carbon_xml = _read_member(zf, f"{root}/repository/conf/carbon.xml", path)
    return _info(path, root, carbon_xml, sha256_of(path))


def read_pack_file(pack: PackInfo, relative: str) -> bytes | None:
    """A file of the pack (path below its top folder), or None when the pack has none."""
    if pack.path.is_dir():
        file = pack.path / relative
        return file.read_bytes() if file.is_file() and not file.is_symlink() else None
    with open_zip(pack.path) as zf:
        name = f"{pack.root}/{relative}"
        return _read_member(zf, name, pack.path) if name in zf.NameToInfo else None


def _read_member(zf: zipfile.ZipFile, name: str, path: Path) -> bytes:
    try:
        return zf.read(name)
    except DAMAGE as err:
        raise PackError(f"{path}: entry '{name}' is damaged ({err})", REDOWNLOAD) from None


def _inspect_dir(path: Path) -> PackInfo:
    roots = [p for p in path.iterdir() if p.is_dir()]
    # Either the pack's top folder itself, or a folder holding exactly that top folder.
    base = path if (path / "repository").is_dir() else (roots[0] if len(roots) == 1 else path)
    missing = [f for f in REQUIRED if not (base / f).exists()]
    if missing:
        raise PackError(f"{path} lacks {', '.join(missing)}: not a WSO2 Carbon pack",
                        "point pack.path at the unpacked product folder (the one holding bin/ and repository/)")
    check_folder(base)
    digest = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(base)):  # links are not followed: hashed by their target
        for name in sorted([*files, *(d for d in dirs if (Path(folder) / d).is_symlink())]):
            file = Path(folder) / name
            digest.update(str(file.relative_to(base)).encode())
            digest.update(os.readlink(file).encode() if file.is_symlink() else sha256_of(file).encode())
    return _info(base, base.name, (base / "repository/conf/carbon.xml").read_bytes(), digest.hexdigest())


def _info(path: Path, root: str, carbon_xml: bytes, sha256: str) -> PackInfo:
    try:
        tree = etree.fromstring(carbon_xml)
    except etree.XMLSyntaxError as err:
        raise PackError(f"{path}: repository/conf/carbon.xml is not well-formed XML ({err})",
                        "restore carbon.xml from an unmodified pack") from None

    def text(tag: str) -> str:
        node = tree.find(f"{{{CARBON_NS}}}{tag}")
        if node is None or not (node.text or "").strip():
            raise PackError(f"{path}: carbon.xml has no <{tag}>", "restore carbon.xml from an unmodified pack")
        return (node.text or "").strip()

    return PackInfo(path, root, text("Name"), text("ServerKey"), text("Version"), sha256)


def _single_root(names: list[str], path: Path) -> str:
    roots = {n.split("/", 1)[0] for n in names if n.strip("/")}
    if len(roots) != 1:
        raise PackError(f"{path} has {len(roots)} top-level entries, a pack has one folder (e.g. wso2is-5.1.0/)",
                        "use the product zip as downloaded from WSO2")
    return roots.pop()


def _parent(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
