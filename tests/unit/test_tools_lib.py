"""tools/lib.sh, the shell library every tools/ script sources: its helpers run in a real bash."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.unit.helpers import PROJECT_DIR

pytestmark = pytest.mark.unit
LIB = PROJECT_DIR / "tools" / "lib.sh"


def bash(script: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", f'LOG_TAG=t; . "{LIB}"\n{script}'], cwd=tmp_path,
                          text=True, capture_output=True, timeout=60, env={"PATH": "/usr/bin:/bin", **env})


def test_wait_until_takes_the_command_as_words_and_gives_up_after_its_tenths(tmp_path: Path) -> None:
    (tmp_path / "a file with spaces").touch()
    ok = bash('wait_until 5 test -e "a file with spaces" && echo yes', tmp_path)
    assert ok.stdout == "yes\n"
    started = time.monotonic()
    no = bash('wait_until 5 test -e "$(printf "not; there")" || echo gave up', tmp_path)
    assert no.stdout == "gave up\n" and time.monotonic() - started < 5


def test_stop_pids_kills_what_ignores_sigterm_and_says_which(tmp_path: Path) -> None:
    proc = bash("""
        sleep 30 & polite=$!
        bash -c 'trap "" TERM; sleep 30' & stubborn=$!
        sleep 0.3
        killed=$(stop_pids 10 "$polite" "$stubborn")
        [ "$killed" = "$stubborn" ] && echo "only the stubborn one needed SIGKILL"
        wait_until 20 bash -c "! kill -0 $stubborn 2>/dev/null" && echo "and it is gone"
    """, tmp_path)
    assert proc.stdout == "only the stubborn one needed SIGKILL\nand it is gone\n", proc.stderr


def test_start_daemon_records_the_daemons_own_pid_and_pid_in_checks_its_command(tmp_path: Path) -> None:
    proc = bash("""
        exec 7>held.lock
        start_daemon d.pid d.log sleep 30
        wait_until 50 test -s d.pid
        p=$(pid_in d.pid "sleep 30 ") && echo "runs as $(cat /proc/$p/comm)"
        pid_in d.pid "dockerd " >/dev/null || echo "not dockerd"
        ls /proc/$p/fd | grep -qx 7 || echo "the caller's descriptor 7 is closed in it"
        stop_pids 20 "$p" >/dev/null; pid_in d.pid >/dev/null || echo stopped
    """, tmp_path)
    assert proc.stdout.splitlines() == ["runs as sleep", "not dockerd", "the caller's descriptor 7 is closed in it",
                                        "stopped"], proc.stderr


def test_ensure_pkgs_leaves_apt_alone_when_everything_is_installed(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "apt-get").write_text("#!/bin/sh\necho apt-get was called >&2; exit 1\n")
    (fake / "apt-get").chmod(0o755)
    proc = bash('ensure_pkgs apt.log bash coreutils && echo nothing to do', tmp_path, PATH=f"{fake}:/usr/bin:/bin")
    assert proc.stdout == "nothing to do\n" and "apt-get was called" not in proc.stderr
    missing = bash("ensure_pkgs apt.log no-such-package-wso2k8s", tmp_path, PATH=f"{fake}:/usr/bin:/bin")
    assert missing.returncode != 0 and "installing Debian packages: no-such-package-wso2k8s" in missing.stdout
    assert "ERROR: apt-get update failed" in missing.stderr  # said, not a silent set -e exit


def test_log_and_die_name_the_script_and_the_time(tmp_path: Path) -> None:
    proc = bash('log hello; die "it broke"; echo never', tmp_path)
    assert proc.returncode == 1 and proc.stdout.startswith("[t +0.") and proc.stdout.endswith("s] hello\n")
    assert "ERROR: it broke" in proc.stderr and "never" not in proc.stdout


def test_shell_words_splits_like_a_shell_and_runs_nothing(tmp_path: Path) -> None:
    spec = """FORWARD -i wso2k8s0 -m comment --comment "wso2k8s: pod traffic" -j ACCEPT $(touch ran) `touch ran`"""
    proc = bash('mapfile -t w < <(shell_words "$SPEC"); printf "<%s>" "${w[@]}"', tmp_path, SPEC=spec)
    assert proc.stdout == ("<FORWARD><-i><wso2k8s0><-m><comment><--comment><wso2k8s: pod traffic><-j><ACCEPT>"
                           "<$(touch><ran)><`touch><ran`>"), proc.stdout
    assert not (tmp_path / "ran").exists()
