"""Look at a product pack (zip or unpacked folder) and say what it is, or why it is not a usable pack."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

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
    if not path.exists():
        raise PackError(f"{path} does not exist", "download the product zip and point pack.path at it")
    if path.is_dir():
        return _inspect_dir(path)
    if not zipfile.is_zipfile(path):
        raise PackError(f"{path} is neither a zip nor a folder", "use the product's .zip as WSO2 ships it")
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = _single_root(names, path)
        present = set(names) | {n.rstrip("/") for n in names} | {_parent(n) for n in names}
        missing = [f for f in REQUIRED if f"{root}/{f}" not in present]
        if missing:
            raise PackError(f"{path} lacks {', '.join(missing)}: not a WSO2 Carbon pack",
                            "use the product zip as downloaded from WSO2 (unmodified layout)")
        carbon_xml = zf.read(f"{root}/repository/conf/carbon.xml")
    return _info(path, root, carbon_xml, sha256_of(path))


def _inspect_dir(path: Path) -> PackInfo:
    roots = [p for p in path.iterdir() if p.is_dir()]
    # Either the pack's top folder itself, or a folder holding exactly that top folder.
    base = path if (path / "repository").is_dir() else (roots[0] if len(roots) == 1 else path)
    missing = [f for f in REQUIRED if not (base / f).exists()]
    if missing:
        raise PackError(f"{path} lacks {', '.join(missing)}: not a WSO2 Carbon pack",
                        "point pack.path at the unpacked product folder (the one holding bin/ and repository/)")
    digest = hashlib.sha256()
    for file in sorted(p for p in base.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(base)).encode())
        digest.update(sha256_of(file).encode())
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
