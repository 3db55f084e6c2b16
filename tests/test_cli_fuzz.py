"""The CLI under random arguments and random files: never a traceback, an exit code outside 0/1/2,
more than MEMORY_CAP of memory or more than CASE_SECONDS for one case (tests/support/cli_fuzz.py)."""

import json
import os
import resource
import subprocess
import sys

import pytest

MEMORY_CAP = 1536 << 20  # address space of the fuzzing child: a runaway read dies here, not in swap
CASES = int(os.environ.get("ATLAS_FUZZ_CASES", "2000"))  # more in a slow run: ATLAS_FUZZ_CASES=20000


def _cap():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


@pytest.mark.parametrize("seed", [1, 2])
def test_random_command_lines_fail_cleanly(tmp_path, seed):
    done = subprocess.run([sys.executable, "-m", "tests.support.cli_fuzz", str(seed), str(CASES // 2), str(tmp_path)],
                          capture_output=True, timeout=1200, preexec_fn=_cap, cwd=os.getcwd())
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    report = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert report["cases"] == CASES // 2
    assert report["failures"] == [], json.dumps(report["failures"][:5], indent=1)
    print(f"seed {seed}: {report['cases']} cases, slowest {report['slowest_s']} s")
