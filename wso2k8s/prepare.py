"""Everything done on disk before a resource is registered: packs found or generated, checked, build
contexts written. Any problem here is a SettingsError naming the key and layer, so nothing is half-applied."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from .pack.context import check_files, write_base_context, write_product_context
from .pack.errors import PackError, RenderError
from .pack.inspect import PackInfo, inspect_pack
from .settings import Problem, Settings, SettingsError, StackSettings


@dataclass(frozen=True)
class PreparedProfile:
    settings: Settings  # files_dir points at the synthetic jars when the pack is synthetic
    pack: PackInfo
    product_context: Path


@dataclass(frozen=True)
class PreparedStack:
    stack: StackSettings
    base_context: Path
    profiles: list[PreparedProfile]


def prepare(stack: StackSettings, project_dir: Path, build_dir: Path) -> PreparedStack:
    problems: list[Problem] = []
    prepared: list[PreparedProfile] = []
    base_settings = {s.base_image.model_dump_json() for s in stack.profiles}
    if len(base_settings) > 1:
        problems.append(stack.problem(stack.profiles[1].profile, "base_image",
                                      "profiles ask for different base images", "set base_image once, for all"))
    for settings in stack.profiles:
        settings, pack = _pack_for(stack, settings, project_dir, build_dir, problems)
        problems += [stack.problem(settings.profile, p.key, p.message, p.fix)
                     for p in check_files(settings, project_dir)]
        if pack is None or problems:
            continue
        try:
            context = write_product_context(settings, pack, build_dir / stack.stack / settings.profile, project_dir)
        except RenderError as err:
            problems.append(stack.problem(settings.profile, "pack.path", err.message, err.fix))
            continue
        prepared.append(PreparedProfile(settings, pack, context))
    if problems:
        raise SettingsError(problems)
    base = write_base_context(stack.profiles[0], build_dir / stack.stack / "base-image", project_dir)
    return PreparedStack(stack, base, prepared)


def _pack_for(stack: StackSettings, s: Settings, project_dir: Path, build_dir: Path,
              problems: list[Problem]) -> tuple[Settings, PackInfo | None]:
    if s.pack.source == "synthetic":
        pack_path, files_dir = _synthetic(s, stack.secrets.keystore_password, build_dir / stack.stack / "synthetic")
        s = s.model_copy(update={"files_dir": str(files_dir)})
    else:
        assert s.pack.path is not None
        pack_path = Path(s.pack.path).expanduser()
        pack_path = pack_path if pack_path.is_absolute() else project_dir / pack_path
    try:
        pack = inspect_pack(pack_path)
    except PackError as err:
        problems.append(stack.problem(s.profile, "pack.path", err.message, err.fix))
        return s, None
    if s.pack.sha256 and pack.sha256 != s.pack.sha256:
        problems.append(stack.problem(s.profile, "pack.sha256", f"{pack_path} has sha256 {pack.sha256}",
                                      "check the download; set pack.sha256 to what `sha256sum` prints"))
    if (pack.name, pack.version) != (s.server.display_name, s.version):
        problems.append(stack.problem(s.profile, "pack.path",
                                      f"{pack_path} is {pack.name} {pack.version}, the stack deploys "
                                      f"{s.server.display_name} {s.version}",
                                      f"use the {s.product}-{s.version} pack or change "
                                      "wso2-kubernetes:product/version"))
    return s, pack


def _synthetic(s: Settings, keystore_password: str, cache: Path) -> tuple[Path, Path]:
    """The generated stand-in pack and file_list jars. Regenerated only when the keystore password changes
    (the marker holds a salted, slow hash of it, never the password)."""
    from .synthetic.pack import make_jar, make_pack  # javac at call time: only when a synthetic pack is used

    folder = cache / f"{s.product}-{s.version}"
    marker = folder / "keystore-password.scrypt"
    pack_zip = folder / f"{s.product}-{s.version}.zip"
    if not (pack_zip.is_file() and _matches(marker, keystore_password)):
        folder.mkdir(parents=True, exist_ok=True)
        # The conf files keep the real pack's default text; the secret only reaches them at container start.
        made = make_pack(folder, keystore_password=keystore_password, as_zip=True, conf_password="wso2carbon")
        if made != pack_zip:
            made.replace(pack_zip)
        salt = os.urandom(16)
        marker.write_text(salt.hex() + ":" + _scrypt(keystore_password, salt))
    files_dir = folder / "files"
    for entry in s.file_list:  # rewritten each time: the synthetic scheme jars follow their sources
        stem = Path(entry).stem
        name, _, version = stem.rpartition("-")
        make_jar(files_dir / entry, name=name or stem, version=version if name else "1.0.0")
    return pack_zip, files_dir


def _scrypt(secret: str, salt: bytes) -> str:
    return hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1).hex()


def _matches(marker: Path, secret: str) -> bool:
    if not marker.is_file():
        return False
    salt_hex, _, digest = marker.read_text().partition(":")
    return hmac.compare_digest(_scrypt(secret, bytes.fromhex(salt_hex)), digest)
