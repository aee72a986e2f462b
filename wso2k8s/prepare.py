"""Everything done on disk before a resource is registered: packs found or generated, checked, build
contexts written. Any problem here is a SettingsError naming the key and layer, so nothing is half-applied."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from .edge_context import USER_ID, EdgeContextError, caddy_binary, write_edge_context
from .fetch import FetchError, fetched
from .keys.stores import KeystorePlan, plan_keystores
from .pack.context import check_files, verify_pack, write_base_context, write_product_context
from .pack.database_context import DatabaseContext, database_resource_name, write_database_context
from .pack.errors import FixableError, PackError, RenderError
from .pack.inspect import PackInfo, inspect_pack, read_pack_file
from .pack.keystore import KeystoreFormatError, jks_keys_refusing, password_opens
from .remote import localised
from .settings import Problem, Settings, SettingsError, StackSettings

# carbon.xml's KeyStore and TrustStore (and catalina's keystorePass) all take keystore_password.
KEYSTORES = ("repository/resources/security/wso2carbon.jks", "repository/resources/security/client-truststore.jks")
# What a shipped pack's keystores open with (and the synthetic pack's, which stands for one).
STOCK_KEYSTORE_PASSWORD = "wso2carbon"


@dataclass(frozen=True)
class PreparedProfile:
    settings: Settings  # files_dir points at the synthetic jars when the pack is synthetic
    pack: PackInfo
    product_context: Path
    keystores: KeystorePlan | None = None  # what the keystores Secret will hold (wso2k8s/keys/stores.py)


@dataclass(frozen=True)
class PreparedStack:
    stack: StackSettings
    base_context: Path
    profiles: list[PreparedProfile]
    edge_context: Path | None = None  # the edge proxy's image context, when a profile's entry.kind is edge
    database: DatabaseContext | None = None  # the embedded server's build context, when the stack runs one


def prepare(stack: StackSettings, project_dir: Path, build_dir: Path) -> PreparedStack:
    """Raises SettingsError (and nothing else) when a file the settings name is missing, unsafe or does not fit;
    nothing is written outside `build_dir`."""
    try:
        return _prepare(stack, project_dir, build_dir)
    except SettingsError:
        raise
    except Exception as err:  # the last resort that keeps a traceback from the user
        # Not foreseen by a check (a disk full, javac missing for the synthetic pack): still the loader's message.
        fix = err.fix if isinstance(err, FixableError) else f"fix the cause, then run again (build folder: {build_dir})"
        raise SettingsError([Problem("(prepare)", f"Pulumi.{stack.stack}.yaml",
                                     f"preparing the build contexts failed: {type(err).__name__}: {err}", fix)]
                            ) from None


def _prepare(stack: StackSettings, project_dir: Path, build_dir: Path) -> PreparedStack:
    problems: list[Problem] = []
    prepared: list[PreparedProfile] = []
    # URL-named files (JDK archive, file_urls) fetched and checked; the settings then name local copies
    stack, reported = localised(stack, project_dir, build_dir, problems)
    base_settings = {s.base_image.model_dump_json() for s in stack.profiles}
    if len(base_settings) > 1:
        problems.append(stack.problem(stack.profiles[1].profile, "base_image",
                                      "profiles ask for different base images", "set base_image once, for all"))
    checked: list[tuple[Settings, PackInfo, KeystorePlan | None]] = []
    for settings in stack.profiles:
        settings, pack = _pack_for(stack, settings, project_dir, build_dir, problems)
        problems += [stack.problem(settings.profile, p.key, p.message, p.fix)
                     for p in check_files(settings, project_dir) if p.key not in reported]
        if pack is None:
            continue
        try:
            verify_pack(pack, build_dir / stack.stack / settings.profile)
        except PackError as err:
            problems.append(stack.problem(settings.profile, "pack.path", err.message, err.fix))
            continue
        settings, plan = _keystores(stack, settings, pack, project_dir, problems)
        checked.append((settings, pack, plan))
    edge = [s for s in stack.profiles if s.entry.kind == "edge"]
    if edge and not caddy_binary().is_file():
        problems.append(stack.problem(edge[0].profile, "entry.kind", f"is 'edge' but the edge proxy's binary "
                                      f"{caddy_binary()} does not exist", "run `bash tools/caddy/build.sh` "
                                      "(tools/engines.sh does it; about 1.5 minutes, once)"))
    if problems:  # everything derivable is checked before the first byte of a build context is written
        raise SettingsError(problems)
    for settings, pack, plan in checked:
        try:
            context = write_product_context(settings, pack, build_dir / stack.stack / settings.profile, project_dir)
        except FixableError as err:  # a conf file the settings must edit, or a pack entry damaged on unpacking
            problems.append(stack.problem(settings.profile, "pack.path", err.message, err.fix))
            continue
        except etree.LxmlError as err:  # a conf file of the pack that is not well-formed XML
            problems.append(stack.problem(settings.profile, "pack.path", f"{pack.path}: a conf file is not "
                                          f"well-formed XML ({err})", "restore it from the pack as WSO2 ships it"))
            continue
        prepared.append(PreparedProfile(settings, pack, context, plan))
    database = None
    if prepared:
        try:
            database = _database_context(stack, prepared[0], build_dir)
        except RenderError as err:  # the pack lacks a schema script of database.type
            problems.append(stack.problem(prepared[0].settings.profile, "database.type", err.message, err.fix))
    if problems:
        raise SettingsError(problems)
    base = write_base_context(stack.profiles[0], build_dir / stack.stack / "base-image", project_dir)
    return PreparedStack(stack, base, prepared, _edge_context(stack, edge, build_dir), database)


def _edge_context(stack: StackSettings, edge: list[Settings], build_dir: Path) -> Path | None:
    """One context for every profile's edge: Caddy FROM the base image's OS image (base_image is stack-wide)."""
    if not edge:
        return None
    try:
        return write_edge_context(build_dir / stack.stack / "edge-image", edge[0].base_image.os_image, USER_ID)
    except EdgeContextError as err:  # the binary went away since the check above
        raise SettingsError([stack.problem(edge[0].profile, "entry.kind", err.message, err.fix)]) from None


def _database_context(stack: StackSettings, first: PreparedProfile, build_dir: Path) -> DatabaseContext | None:
    """One embedded server per stack (`database` is stack-wide), its schemas from the first profile's pack: every
    profile deploys the same product version, whose dbscripts are the same."""
    s = first.settings
    if not s.database.enabled or s.database.external:
        return None  # the user's own server: nothing to build
    return write_database_context(s, first.product_context / "pack" / first.pack.root,
                                  build_dir / stack.stack / database_resource_name(stack.profiles))


def _pack_for(stack: StackSettings, s: Settings, project_dir: Path, build_dir: Path,
              problems: list[Problem]) -> tuple[Settings, PackInfo | None]:
    if s.pack.source == "synthetic":
        pack_path, files_dir = _synthetic(s, build_dir / stack.stack / "synthetic")
        s = s.model_copy(update={"files_dir": str(files_dir)})
    elif s.pack.source == "url":  # fetched once into the cache, by checksum (wso2k8s/fetch.py)
        if not (s.pack.url and s.pack.sha256):
            problems.append(stack.problem(s.profile, "pack.source", "is 'url' but pack.url or pack.sha256 is missing",
                                          "set pack.url to the zip's https:// address and pack.sha256 to its "
                                          "`sha256sum`"))
            return s, None
        try:
            pack_path = fetched(s.pack.url, s.pack.sha256)
        except FetchError as err:
            problems.append(stack.problem(s.profile, "pack.url", err.message, err.fix))
            return s, None
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
        return s, None  # not the pack the settings name: nothing more to say about it
    if (pack.name, pack.version) != (s.server.display_name, s.version):
        problems.append(stack.problem(s.profile, "pack.path",
                                      f"{pack_path} is {pack.name} {pack.version}, the stack deploys "
                                      f"{s.server.display_name} {s.version}",
                                      f"use the {s.product}-{s.version} pack or change "
                                      "wso2-kubernetes:product/version"))
        return s, None
    if s.keystores.mode == "stock":  # the pack's keystore is used only then
        problems += _keystore_problems(stack, s, pack)
    return s, pack


def _keystores(stack: StackSettings, s: Settings, pack: PackInfo, project_dir: Path,
               problems: list[Problem]) -> tuple[Settings, KeystorePlan | None]:
    """The profile's keystores checked offline; settings.keystores.type filled in from the user's file."""
    stock = [_pack_bytes(pack, relative) for relative in KEYSTORES]
    plan, found = plan_keystores(s, project_dir, stack.secrets.keystore_password, stock[0], stock[1])
    for f in found:
        problems.append(Problem(f.key, f"Pulumi.{stack.stack}.yaml", f.message, f.fix) if f.secret
                        else stack.problem(s.profile, f.key, f.message, f.fix))
    if plan is None:
        return s, None
    return s.model_copy(update={"keystores": s.keystores.model_copy(update={"type": plan.keystore_type})}), plan


def _pack_bytes(pack: PackInfo, relative: str) -> bytes | None:
    try:
        return read_pack_file(pack, relative)
    except PackError:
        return None  # reported by the pack checks


def _keystore_problems(stack: StackSettings, s: Settings, pack: PackInfo) -> list[Problem]:
    """The stack's keystore_password must open the pack's keystores, or the server fails at start."""
    problems = []
    key, stack_file = "wso2-kubernetes:keystore_password", f"Pulumi.{stack.stack}.yaml"
    for relative in KEYSTORES:
        try:
            data = read_pack_file(pack, relative)
        except PackError as err:
            problems.append(stack.problem(s.profile, "pack.path", err.message, err.fix))
            continue
        if data is None:
            if relative.endswith("wso2carbon.jks"):
                problems.append(stack.problem(s.profile, "pack.path", f"{pack.path} has no {relative}",
                                              "use the pack as WSO2 ships it (its keystore is wso2carbon.jks)"))
            continue
        try:
            opens = password_opens(data, stack.secrets.keystore_password)
            locked = jks_keys_refusing(data, stack.secrets.keystore_password) if opens else []
        except KeystoreFormatError as err:
            problems.append(stack.problem(s.profile, "pack.path", f"{pack.path}: {relative} is {err}",
                                          "restore the keystore from the pack as WSO2 ships it"))
            continue
        if not opens:
            stock = password_opens(data, STOCK_KEYSTORE_PASSWORD)
            hint = f" (it opens with the stock password {STOCK_KEYSTORE_PASSWORD})" if stock else ""
            problems.append(Problem(key, stack_file, f"does not open the pack's {relative}{hint}",
                                    f"pulumi config set --secret {key} <the keystore's password>"
                                    + (f"; for a shipped pack that is {STOCK_KEYSTORE_PASSWORD}" if stock else "")))
        elif locked:  # carbon.xml KeyPassword is keystore_password too: the server could not use the key
            problems.append(Problem(key, stack_file, f"opens the pack's {relative} but not its private key "
                                    f"'{locked[0]}' (carbon.xml KeyPassword is the same password)",
                                    f"give the key the store's password (keytool -keypasswd -alias {locked[0]} "
                                    f"-keystore {relative.rsplit('/', 1)[-1]}) or use the keystore as shipped"))
    return problems


def _synthetic(s: Settings, cache: Path) -> tuple[Path, Path]:
    """The generated stand-in pack and file_list jars. Its keystores carry the stock password, like a shipped
    pack's; regenerated when the synthetic pack's own sources change (the marker holds their hash)."""
    from .synthetic.pack import make_jar, make_pack  # javac at call time: only when a synthetic pack is used

    folder = cache / f"{s.product}-{s.version}"
    marker = folder / "sources.sha256"
    pack_zip = folder / f"{s.product}-{s.version}.zip"
    sources = _synthetic_sources_hash()
    if not (pack_zip.is_file() and marker.is_file() and marker.read_text() == sources):
        folder.mkdir(parents=True, exist_ok=True)
        made = make_pack(folder, keystore_password=STOCK_KEYSTORE_PASSWORD, as_zip=True, product=s.product,
                         version=s.version)
        if made != pack_zip:
            made.replace(pack_zip)
        marker.write_text(sources)
    files_dir = folder / "files"
    for entry in s.file_list:  # rewritten each time: the synthetic scheme jars follow their sources
        stem = Path(entry).stem
        name, _, version = stem.rpartition("-")
        make_jar(files_dir / entry, name=name or stem, version=version if name else "1.0.0")
    return pack_zip, files_dir


def _synthetic_sources_hash() -> str:
    """Of everything the synthetic pack is made from (its template, server sources and maker)."""
    root = Path(__file__).parent / "synthetic"
    digest = hashlib.sha256()
    for file in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()
