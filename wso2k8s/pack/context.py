"""Lay out the Docker build contexts of the base image and of a product image.

product context:
  Dockerfile             FROM the base image (by digest, a build arg)
  pack/<root>/...        the unpacked pack: its own, cached layer
  overlay/<root>/...     rendered conf files + file_list jars: the thin layer
  docker-entrypoint.sh   puts mounted secrets into the conf files, then runs bin/wso2server.sh
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..settings.schema import KERNEL_JAVA, SYNTHETIC_JAVA, Settings
from .archive import check_entries, check_folder, extract, open_zip, verify_data
from .inspect import PackInfo, sha256_of
from .jdbc import driver_problems, place_driver
from .jdk import JdkError, inspect_jdk
from .render import TEMPLATES, render_conf, secret_names
from .scheme_jar import scheme_problems

HOME = "/home/wso2carbon"


@dataclass(frozen=True)
class FileProblem:
    """A file the settings name that is missing or broken; the loader's provenance turns it into a Problem."""

    key: str  # dotted settings key, e.g. file_list[2]
    message: str
    fix: str


def carbon_home(pack: PackInfo) -> str:
    return f"{HOME}/{pack.root}"


def write_base_context(settings: Settings, out: Path, project_dir: Path) -> Path:
    """The base image's context; with a JDK archive it is copied in (after its checksum was checked)."""
    java = settings.base_image.java
    _reset(out)
    archive_name = ""
    if java.source == "archive":
        assert java.archive is not None
        archive = _resolve(project_dir, java.archive)
        archive_name = "jdk.tar.gz"
        _link_or_copy(archive, out / archive_name)
    dockerfile = TEMPLATES.get_template("docker/base.Dockerfile.j2").render(
        java=java, os_image=settings.base_image.os_image, apt_mirror=settings.base_image.apt_mirror,
        user_id=settings.base_image.user_id, archive_name=archive_name)
    write_if_changed(out / "Dockerfile", dockerfile.encode())
    return out


def check_files(settings: Settings, project_dir: Path) -> list[FileProblem]:
    """The user-supplied files the settings name: file_list jars and a JDK archive. Checked before any
    resource is registered."""
    problems = []
    files_dir = _resolve(project_dir, settings.files_dir)
    for i, entry in enumerate(settings.file_list):
        source = files_dir / entry
        if not source.is_file():
            problems.append(FileProblem(f"file_list[{i}]", f"{entry} is not in {files_dir}",
                                        f"copy the jar to {source} (or fix the name; files_dir is "
                                        f"'{settings.files_dir}')"))
        elif not zipfile.is_zipfile(source):
            problems.append(FileProblem(f"file_list[{i}]", f"{source} is not a jar (not a zip file)",
                                        "replace it with the real jar"))
    # The membership scheme jar: its class is there, and the parameter names it reads are ones we can serve.
    problems += [FileProblem(key, message, fix) for key, message, fix in scheme_problems(settings, files_dir)]
    problems += [FileProblem(*p) for p in driver_problems(settings.database, project_dir)]  # JDBC driver jar
    java = settings.base_image.java
    if java.source == "archive" and java.archive:
        archive = _resolve(project_dir, java.archive)
        if not archive.is_file():
            problems.append(FileProblem("base_image.java.archive", f"{archive} does not exist",
                                        "download the JDK .tar.gz and point base_image.java.archive at it"))
        elif java.archive_sha256 and (actual := sha256_of(archive)) != java.archive_sha256:
            problems.append(FileProblem("base_image.java.archive_sha256",
                                        f"{archive} has sha256 {actual}, not the configured one",
                                        "check the download, then set archive_sha256 to what `sha256sum` prints"))
        else:
            problems += _java_version_problems(settings, archive)
    kubeconfig = settings.kubernetes.kubeconfig
    if kubeconfig and "\n" not in kubeconfig and not _resolve(project_dir, kubeconfig).is_file():
        problems.append(FileProblem("kubernetes.kubeconfig", f"{_resolve(project_dir, kubeconfig)} does not exist",
                                    "point kubernetes.kubeconfig at your cluster's kubeconfig file, or remove it "
                                    "to use the local cluster of tools/kubernetes/cluster.sh"))
    return problems


def _java_version_problems(settings: Settings, archive: Path) -> list[FileProblem]:
    """The archive's Java major version against what the pack runs on."""
    java = settings.base_image.java
    try:
        jdk = inspect_jdk(archive)
    except JdkError as err:
        return [FileProblem("base_image.java.archive", err.message, err.fix)]
    if settings.pack.source == "synthetic":
        if jdk.major < SYNTHETIC_JAVA:
            return [FileProblem("base_image.java.archive", f"{archive} is Java {jdk.version}; the synthetic pack's "
                                f"server needs Java {SYNTHETIC_JAVA} or later",
                                "use a JDK 17+ archive, or base_image.java.source: jlink, with the synthetic pack")]
        return []
    low, high = KERNEL_JAVA[settings.server.carbon_kernel]
    if not low <= jdk.major <= high and not java.allow_unsupported_version:
        return [FileProblem("base_image.java.archive",
                            f"{archive} is Java {jdk.version}; Carbon {settings.server.carbon_kernel} "
                            f"({settings.server.display_name} {settings.version}) runs on Java {low} or {high}",
                            f"use a JDK {high} archive, or set base_image.java.allow_unsupported_version: true to run "
                            f"it on Java {jdk.major} knowingly")]
    return []


def write_product_context(settings: Settings, pack: PackInfo, out: Path, project_dir: Path) -> Path:
    """Unpacks the pack once per checksum, renders the overlay, copies the file_list jars (which
    `check_files` has found present: prepare() checks before writing anything)."""
    out.mkdir(parents=True, exist_ok=True)
    _unpack_once(pack, out / "pack")
    overlay = out / "overlay" / pack.root
    shutil.rmtree(out / "overlay", ignore_errors=True)
    files_dir = _resolve(project_dir, settings.files_dir)
    # Absolute, so the renderer finds the scheme jar whose parameter names it writes.
    rendered = render_conf(settings.model_copy(update={"files_dir": str(files_dir)}), out / "pack" / pack.root)
    for item in rendered:
        write_if_changed(overlay / item.path, item.content)
    for entry in settings.file_list:
        target = overlay / entry
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files_dir / entry, target)
    place_driver(settings.database, project_dir, overlay)  # the JDBC driver, into repository/components/lib
    home = carbon_home(pack)
    entrypoint = TEMPLATES.get_template("docker/docker-entrypoint.sh.j2").render(
        carbon_home=home, secret_names=secret_names(settings), conf_files=[r.path for r in rendered if r.holds_secrets])
    write_if_changed(out / "docker-entrypoint.sh", entrypoint.encode())
    (out / "docker-entrypoint.sh").chmod(0o755)
    dockerfile = TEMPLATES.get_template("docker/product.Dockerfile.j2").render(
        image_name=settings.product_image.name, display_name=settings.server.display_name,
        version=settings.version, profile=settings.profile, user_id=settings.base_image.user_id,
        carbon_home=home, pack_sha256=pack.sha256, ports=[settings.shifted(p) for p in settings.ports.values()])
    write_if_changed(out / "Dockerfile", dockerfile.encode())
    (out / ".dockerignore").write_text("")
    return out


def verify_pack(pack: PackInfo, out: Path) -> None:
    """A zip pack's member data (CRCs, lengths) read once and checked, writing nothing; skipped when this very
    pack is already unpacked in `out`. A PackError names the damaged entry."""
    marker = out / "pack.sha256"
    if pack.path.is_dir() or (marker.is_file() and marker.read_text() == pack.sha256 and (out / "pack").is_dir()):
        return
    with open_zip(pack.path) as zf:
        verify_data(zf, check_entries(zf, pack.path), pack.path)


def _unpack_once(pack: PackInfo, target: Path) -> None:
    """Unpacking a real pack takes a while and rewrites ~500 MB: skip it when the same pack is already there.
    A zip's entries are checked and its data verified before anything is written, then it is unpacked into a
    fresh folder beside `target` and moved into place, so a refused pack leaves no half-written tree."""
    marker = target.parent / "pack.sha256"  # beside pack/, so it never lands in the image
    if marker.is_file() and marker.read_text() == pack.sha256 and target.is_dir():
        return
    fresh = target.parent / f".{target.name}.unpacking"
    shutil.rmtree(fresh, ignore_errors=True)
    if pack.path.is_dir():
        check_folder(pack.path)
        fresh.mkdir(parents=True)
        shutil.copytree(pack.path, fresh / pack.root, symlinks=True)
    else:
        with open_zip(pack.path) as zf:
            entries = check_entries(zf, pack.path)
            verify_data(zf, entries, pack.path)
            fresh.mkdir(parents=True)
            extract(zf, entries, fresh)
    for script in (fresh / pack.root / "bin").glob("*.sh"):
        if not script.is_symlink():
            script.chmod(script.stat().st_mode | 0o755)
    marker.unlink(missing_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    fresh.rename(target)
    marker.write_text(pack.sha256)


def write_if_changed(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_bytes() != content:
        path.write_bytes(content)


def _reset(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for child in out.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        elif child.name != "Dockerfile":
            child.unlink()


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copyfile(source, target)


def _resolve(project_dir: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else project_dir / p
