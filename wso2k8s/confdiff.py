"""What changes inside the server: unified diffs of the rendered conf files, deployed stack → proposed one.

The ProductImage carries its rendered conf files (zlib + base64; they hold only `@@wso2k8s:<name>@@` secret
tokens, never a password) and the stack exports them as `conf_files` {profile: {path: packed}}. So the
deployed side is in the state alone; the proposed side is what the preview just rendered into build/<stack>/.

    python -m wso2k8s.confdiff <stack> <deployed conf_files JSON file> [build dir]

prints one unified diff per changed file (secrets masked), nothing for unchanged files.
"""

from __future__ import annotations

import base64
import difflib
import json
import re
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path

MASK = "********"
# Names whose values are secrets in Carbon conf files (Password, keystorePass, KeyPassword...); not "token":
# DisableTokenStore is a setting.
SECRET_NAME_PATTERN = re.compile(r"pass(word|phrase)?|secret", re.IGNORECASE)
_TOKEN = re.compile(r"^@@wso2k8s:[a-z_]+@@$")
# <KeyStorePassword>x</KeyStorePassword>, password="x": a value under a password-like name is masked unless it
# is one of our tokens (a file holding a real password would be a bug elsewhere; the diff still hides it).
_ELEMENT = re.compile(r"<(?P<tag>[\w:.-]+)(?P<attrs>[^>]*)>(?P<value>[^<]*)</(?P=tag)>")
_ATTRIBUTE = re.compile(r'(?P<name>[\w:.-]+)="(?P<value>[^"]*)"')


def pack_file(content: str) -> str:
    return base64.b64encode(zlib.compress(content.encode(), 9)).decode()


def unpack_file(packed: str) -> str:
    return zlib.decompress(base64.b64decode(packed)).decode()


def rendered_files(product_context: Path) -> dict[str, str]:
    """The conf files rendered into a product build context (overlay/<pack root>/...), jars left out, by
    path relative to the Carbon home (e.g. repository/conf/carbon.xml)."""
    out: dict[str, str] = {}
    overlay = product_context / "overlay"
    for root in sorted(p for p in overlay.iterdir() if p.is_dir()) if overlay.is_dir() else []:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix != ".jar":
                out[path.relative_to(root).as_posix()] = path.read_text()
    return out


def packed(files: Mapping[str, str]) -> dict[str, str]:
    return {path: pack_file(text) for path, text in sorted(files.items())}


def mask(text: str) -> str:
    def element(m: re.Match[str]) -> str:
        if SECRET_NAME_PATTERN.search(m["tag"]) and m["value"].strip() and not _TOKEN.match(m["value"].strip()):
            return f"<{m['tag']}{m['attrs']}>{MASK}</{m['tag']}>"
        return m.group(0)

    def attribute(m: re.Match[str]) -> str:
        if SECRET_NAME_PATTERN.search(m["name"]) and m["value"] and not _TOKEN.match(m["value"]):
            return f'{m["name"]}="{MASK}"'
        return m.group(0)

    return _ATTRIBUTE.sub(attribute, _ELEMENT.sub(element, text))


def file_diffs(profile: str, deployed: Mapping[str, str], proposed: Mapping[str, str]) -> list[str]:
    """One unified diff per conf file that differs (added and removed files too), masked; [] when none."""
    diffs = []
    for path in sorted(set(deployed) | set(proposed)):
        old, new = deployed.get(path), proposed.get(path)
        if old == new:
            continue
        lines = difflib.unified_diff(
            mask(old or "").splitlines(keepends=True), mask(new or "").splitlines(keepends=True),
            fromfile=f"deployed/{profile}/{path}" if old is not None else "/dev/null",
            tofile=f"proposed/{profile}/{path}" if new is not None else "/dev/null", n=2)
        diffs.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return diffs


def report(stack: str, deployed: Mapping[str, Mapping[str, str]], build_dir: Path) -> str:
    """The conf-diff section of a preview: every profile whose rendered files changed. `deployed` is the
    stack output conf_files ({} for a stack never deployed)."""
    stack_dir = build_dir / stack
    profiles = {p.name for p in stack_dir.iterdir() if (p / "overlay").is_dir()} if stack_dir.is_dir() else set()
    sections = []
    for profile in sorted(profiles | set(deployed)):
        old = {path: unpack_file(v) for path, v in (deployed.get(profile) or {}).items()}
        new = rendered_files(stack_dir / profile) if profile in profiles else {}
        diffs = file_diffs(profile, old, new)
        if diffs:
            sections.append(f"## profile {profile}: {len(diffs)} conf file(s) change\n\n" + "".join(diffs))
    if not sections:
        return f"wso2-kubernetes: no rendered conf file changes in stack '{stack}'.\n"
    return f"# Conf file changes in stack '{stack}' (deployed → proposed; secrets masked)\n\n" + "\n".join(sections)


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    stack, deployed_file = argv[0], Path(argv[1])
    build_dir = Path(argv[2]) if len(argv) == 3 else Path("build")
    text = deployed_file.read_text().strip() if deployed_file.is_file() else ""
    deployed = json.loads(text) if text else {}
    sys.stdout.write(report(stack, deployed if isinstance(deployed, dict) else {}, build_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
