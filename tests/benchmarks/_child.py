"""Run one benchmark job in a child process so its peak RSS is its own (see bench_*.py)."""

import os
import subprocess
import sys
import time


def measure(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of `python args...` run as a child."""
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})})
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {process.returncode}")
    return time.monotonic() - started, usage.ru_maxrss / 1024, out
