"""Hostile inputs for the refusal tests: an alias-bomb recipe, PNGs carrying odd provenance, and a
CLI run in a subprocess with a timeout and a memory cap (a regression must fail, not hang or swap)."""

import os
import resource
import subprocess
import sys
from pathlib import Path

from atlas.core.files import embed, png
from tests.support.pngs import small_png

MEMORY_CAP = 2 << 30  # address space of the child: a regressed alias bomb dies here, not in swap


def alias_bomb() -> str:
    """Under 600 bytes of YAML whose aliases expand to 9**9 strings."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\ntxt2img: {prompt: x, width: 512, height: 512}\n"


def png_with_provenance(path: Path, text: str, extra: list | None = None) -> Path:
    """A small PNG whose atlas:provenance chunk holds `text` (any JSON, or none at all)."""
    chunks = [png.text_chunk(embed.PROVENANCE_KEY, text, compress=True), *(extra or [])]
    path.write_bytes(png.with_text(small_png(), chunks))
    return path


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_capped(*args, home: Path, timeout: float = 60) -> tuple[subprocess.CompletedProcess, int]:
    """`atlas ARGS...` in a child with a timeout and a memory cap: (the result, its peak RSS in bytes)."""
    # VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec (a test worker with torch).
    code = ("import sys\nfrom atlas.cli.main import main\ncode = main(sys.argv[1:])\n"
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
            "sys.stderr.write(f'\\nPEAK_RSS_KB={hwm}\\n')\n"
            "sys.exit(code)")
    env = {**os.environ, "ATLAS_HOME": str(home)}
    env.pop("ATLAS_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, timeout=timeout,
                          env=env, preexec_fn=_cap_memory)
    err = done.stderr.decode("utf-8", "replace")
    peak = [line for line in err.splitlines() if line.startswith("PEAK_RSS_KB=")]
    return done, int(peak[-1].removeprefix("PEAK_RSS_KB=")) * 1024 if peak else -1
