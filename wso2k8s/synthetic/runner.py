"""Run an unpacked (synthetic) pack's bin/wso2server.sh on this host, for tests and demos."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

#: Ports of WSO2 IS 5.1.0 before Server/Ports/Offset is added.
BASE_PORTS = {"http": 9763, "https": 9443, "kdc": 8000, "thrift": 10500}

STARTED_LINE = "WSO2 Carbon started in"


class ServerStartError(RuntimeError):
    pass


def ports_for(offset: int) -> dict[str, int]:
    return {name: port + offset for name, port in BASE_PORTS.items()}


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def pick_free_offset(low: int = 20000, high: int = 55000, attempts: int = 500) -> int:
    """A port offset for which all four IS ports are free (and below 65536)."""
    high = min(high, 65535 - max(BASE_PORTS.values()))
    rng = random.Random()
    for _ in range(attempts):
        offset = rng.randint(low, high)
        if all(_port_free(p) for p in ports_for(offset).values()):
            return offset
    raise RuntimeError("no port offset with all four ports free")


class ServerProcess:
    """``bin/wso2server.sh`` of ``carbon_home`` as a child process, output captured to a file.

    KUBERNETES_*, USE_DNS, DNS_LOOKUP_TIMEOUT and BEARER_TOKEN_FILE_LOCATION of this process are not passed
    on unless given in ``env``: the membership scheme lets them override axis2.xml, as the real one does.
    """

    def __init__(
        self,
        carbon_home: Path,
        *,
        java_home: Path | None = None,
        java_opts: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        output: Path | None = None,
    ):
        self.carbon_home = Path(carbon_home)
        self.output_path = output or self.carbon_home / "wso2server.out"
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("KUBERNETES_") and k not in ("USE_DNS", "DNS_LOOKUP_TIMEOUT",
                                                                  "BEARER_TOKEN_FILE_LOCATION")}
        base.pop("CARBON_HOME", None)
        if java_home is not None:
            base["JAVA_HOME"] = str(java_home)
        if java_opts:
            base["JAVA_OPTS"] = " ".join(java_opts)
        base.update(env or {})
        self.env = base
        self.args = list(args)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *, wait: bool = True, timeout: float = 60) -> ServerProcess:
        with open(self.output_path, "wb") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(
                ["sh", str(self.carbon_home / "bin" / "wso2server.sh"), *self.args],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env, cwd=self.carbon_home,
            )
        if wait:
            self.wait_started(timeout)
        return self

    def output(self) -> str:
        try:
            return self.output_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_output(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        """Wait until ``pattern`` (a regex) appears in the output; fails early if the server exits."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.output())
            if m:
                return m
            if self.proc is not None and self.proc.poll() is not None:
                m = rx.search(self.output())
                if m:
                    return m
                raise ServerStartError(
                    f"server exited ({self.proc.returncode}) before /{pattern}/ appeared:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"/{pattern}/ did not appear in {timeout}s:\n{self.output()}")
            time.sleep(0.1)

    def wait_started(self, timeout: float = 60) -> None:
        self.wait_for_output(re.escape(STARTED_LINE), timeout)

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self, timeout: float = 20) -> int | None:
        """SIGTERM, then SIGKILL after ``timeout``. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
