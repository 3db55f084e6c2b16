"""Running atlas, or a probe, in a fresh interpreter: what it imports and how it exits."""

import os
import signal
import subprocess
import sys
import time

HEAVY = ["torch", "diffusers", "textual", "transformers", "spandrel"]


def run_atlas(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """`atlas ARGS...` in a fresh interpreter (for import-cost and exit-code checks)."""
    return subprocess.run([sys.executable, "-m", "atlas.cli.main", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, **kwargs)


def heavy_modules_after(code: str, env=None) -> list[str]:
    """The heavy libraries (HEAVY) loaded once `code` has run in a fresh interpreter."""
    probe = code + f"\nimport sys\nprint('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    line = [x for x in done.stdout.splitlines() if x.startswith("HEAVY=")][-1]
    return [m for m in line.removeprefix("HEAVY=").split(",") if m]


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc: Linux)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def descendants_of(pid: int) -> list[int]:
    """`pid`'s children, their children, and so on (a snapshot: read from /proc)."""
    found, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    from pathlib import Path

    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def survivors(pids, within: float) -> list[int]:
    """Of `pids`, those still running after up to `within` seconds of waiting for them all to end."""
    deadline = time.monotonic() + within
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return sorted(pid for pid in pids if running(pid))


def kill_running(pids) -> None:
    """SIGKILL those of `pids` still running (a test's clean-up after a failed check)."""
    for pid in pids:
        if running(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
