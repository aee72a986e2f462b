"""Print the Pulumi versions a Python environment asks for, one per line, for toolchain.sh.

Run it with the venv's own interpreter:  <venv>/bin/python tools/pulumi/venv_versions.py
Output lines:
  sdk pulumi <version of the `pulumi` distribution>
  plugin <name> <version>        (one per installed package that ships a resource pulumi-plugin.json)
"""

import importlib.metadata as md
import json
import sys


def main() -> int:
    try:
        print("sdk pulumi", md.version("pulumi"))
    except md.PackageNotFoundError:
        print("venv_versions: the `pulumi` package is not installed in", sys.prefix, file=sys.stderr)
        return 1
    seen = set()
    for dist in md.distributions():
        for f in dist.files or []:
            if f.name != "pulumi-plugin.json" or len(f.parts) != 2:
                continue
            try:
                meta = json.loads(f.read_text())
            except (OSError, ValueError):
                continue
            if not meta.get("resource") or meta.get("parameterization"):
                continue
            name = meta.get("name")
            version = meta.get("version") or dist.version
            if name and (name, version) not in seen:
                seen.add((name, version))
                print("plugin", name, version)
    return 0


if __name__ == "__main__":
    sys.exit(main())
