"""Repair what an interrupted `pulumi up` (Ctrl-C twice, SIGKILL, a lost machine) leaves in a stack's state, so
that the next `up` converges with no hand work. `tools/up.sh` runs it before every `up`; it does nothing when
there is nothing to repair.

    python3 tools/pulumi/recover.py <backend dir> <stack> -- <pulumi command...>
      e.g.  python3 tools/pulumi/recover.py .pulumi-state dev -- tools/pulumi.sh dev

1. A stale lock (file backend): `pulumi up` killed by SIGKILL leaves its lock file, and every later command
   fails with "the stack is currently locked". A lock is removed only when it names this host and its process
   is gone (or is no longer a pulumi process); a live `up` keeps its lock.
2. Pending operations: the engine records "creating X" before it asks the provider and clears it after. When
   killed in between, the state keeps the operation and every later `up` warns about it; Pulumi clears pending
   creates only in an interactive `pulumi refresh`. Here each pending create of a Kubernetes object whose name
   is known is imported by its ID (`<namespace>/<name>`; Kubernetes either has it or not, and refresh keeps it
   or drops it), so an object the interrupted up made is adopted by the state, not orphaned: the next `up`
   updates it, or replaces it and deletes the old one. Other pending creates (an image build: the next build
   pushes the same tag again) are cleared. `pulumi refresh` then clears the pending updates and deletes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any


def stale_locks(backend: Path, stack: str) -> list[Path]:
    """Lock files of `stack` whose process is gone. The file backend keeps them under .pulumi/locks/<org>/
    <project>/<stack>/<id>.json with {pid, hostname, ...}."""
    stale = []
    for lock in backend.glob(f".pulumi/locks/**/{stack}/*.json"):
        try:
            content = json.loads(lock.read_text())
        except (OSError, ValueError):
            continue
        if content.get("hostname") != socket.gethostname():
            continue  # another machine's: not ours to judge
        if not _is_pulumi(int(content.get("pid", 0))):
            stale.append(lock)
    return stale


def _is_pulumi(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return Path(cmdline.split(b"\0", 1)[0].decode(errors="replace")).name == "pulumi"  # the CLI, not a plugin


def kubernetes_id(resource: dict[str, Any]) -> str | None:
    """The provider ID of a Kubernetes object from its inputs (`<namespace>/<name>`, or `<name>` when cluster
    scoped), or None when it is not a Kubernetes object or its name was not known yet."""
    if not resource.get("type", "").startswith("kubernetes:") or resource["type"].startswith("pulumi:providers:"):
        return None
    metadata = resource.get("inputs", {}).get("metadata", {})
    name, namespace = metadata.get("name"), metadata.get("namespace")
    if not isinstance(name, str) or not name:
        return None
    if isinstance(namespace, str) and namespace:
        return f"{namespace}/{name}"
    return name if resource["type"] == "kubernetes:core/v1:Namespace" else None


def refresh_args(pending: list[dict[str, Any]]) -> list[str]:
    """`pulumi refresh` flags that import every nameable Kubernetes pending create and clear the rest."""
    args = ["refresh", "--yes", "--skip-preview", "--clear-pending-creates"]
    for op in pending:
        ident = kubernetes_id(op.get("resource", {}))
        if op.get("type") == "creating" and ident:
            args += ["--import-pending-creates", op["resource"]["urn"], "--import-pending-creates", ident]
    return args


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") != 2:
        print(__doc__.strip().splitlines()[4], file=sys.stderr)
        return 2
    backend, stack, pulumi = Path(argv[0]), argv[1], argv[3:]
    for lock in stale_locks(backend, stack):
        print(f"wso2-kubernetes: removing the lock of a pulumi process that is gone: {lock}", file=sys.stderr)
        lock.unlink()
        lock.with_name(lock.name + ".attrs").unlink(missing_ok=True)  # the bucket library's sidecar
    export = subprocess.run([*pulumi, "stack", "export"], capture_output=True, text=True, check=False)
    if export.returncode != 0:
        return 0  # no stack yet, or no state: nothing to repair (the up itself will say what is wrong)
    pending = json.loads(export.stdout).get("deployment", {}).get("pending_operations") or []
    if not pending:
        return 0
    names = ", ".join(f"{op.get('type')} {op.get('resource', {}).get('urn', '?').rsplit('::', 1)[-1]}"
                      for op in pending)
    print(f"wso2-kubernetes: an interrupted update left {len(pending)} pending operation(s) ({names}); "
          "refreshing the state from the cluster", file=sys.stderr)
    return subprocess.run([*pulumi, *refresh_args(pending)], check=False,
                          stdout=sys.stderr if os.environ.get("RECOVER_QUIET") is None else subprocess.DEVNULL
                          ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
