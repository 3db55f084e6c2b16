"""Running atlas, or a probe, in a fresh interpreter: what it imports and how it exits."""

import os
import subprocess
import sys

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
