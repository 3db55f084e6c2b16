"""Cold start of the read commands on a large catalogue (not collected by pytest).

    python tests/benchmarks/bench_cold_start.py [--renders 100000] [--home DIR] [--repeat 15]

Each command runs as a new process, as a person or a script runs it, output to a pipe. Target:
`atlas search`, `atlas show` and `atlas list` answer in under 200 ms on 100,000 renders. Figures
are also ratios to baselines measured in the same run, interleaved round by round so that load on
the machine weighs on all alike:
- `python -c pass`: what any Python program costs to start;
- the `sqlite3` command line running the very SQL `atlas search` runs (search/plain.py), values
  written in: what the query costs without Python;
- the same `atlas` command through SQLAlchemy (ATLAS_NO_READER=1): the path before the reader.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]

import make_catalogue  # noqa: E402

from atlas.core.search import plain  # noqa: E402

SEARCHES = ["fox", 'sampler:"Euler a" cfg:7 steps:40..60 city']


def literal(value) -> str:
    """A parameter written into SQL for the sqlite3 shell (strings quoted, quotes doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def shell_sql(query: str, limit: int) -> str:
    sql, params = plain.page_statement(query, 0, limit)
    for name in sorted(params, key=len, reverse=True):  # :p10 before :p1
        sql = sql.replace(f":{name}", literal(params[name]))
    return sql


def timed(argv: list[str], env: dict) -> tuple[float, float]:
    """(wall, CPU) seconds of one run. The CPU time (user + system, from wait4) is what the process
    itself cost: on a busy machine the wall time also holds the time it waited for a core."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{argv} failed ({child.returncode}): {err.read().decode()[-500:]}")
    return elapsed, usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=100_000)
    parser.add_argument("--home", type=Path, help="an existing catalogue (else one is built in a temp folder)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    shell = shutil.which("sqlite3")
    if shell is None:
        raise SystemExit("the sqlite3 command line is needed (apt install sqlite3)")
    temp = None
    home = args.home
    if home is None:
        temp = tempfile.mkdtemp(prefix="atlas-cold-")
        home = Path(temp) / "home"
        make_catalogue.build(home, args.renders)
    database = home / "atlas.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ATLAS_HOME": str(home)}
    # A user's install has its .pyc files; with PYTHONDONTWRITEBYTECODE every start would compile
    # atlas's sources again (tens of ms) and the figures would be those of no real install.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("ATLAS_DATABASE_URL", None)
    slow_env = {**env, "ATLAS_NO_READER": "1"}
    atlas = [sys.executable, "-m", "atlas.cli.main"]
    show_id = str(args.renders // 2 or 1)
    cases: dict[str, tuple[list[str], dict]] = {"python -c pass": ([sys.executable, "-c", "pass"], env)}
    for i, query in enumerate(SEARCHES):
        cases[f"atlas search #{i + 1}"] = ([*atlas, "search", query], env)
        cases[f"atlas search #{i + 1} (SQLAlchemy)"] = ([*atlas, "search", query], slow_env)
        cases[f"sqlite3 shell #{i + 1}"] = ([shell, "-readonly", str(database), shell_sql(query, 50)], env)
    cases["atlas search --json fox"] = ([*atlas, "search", "--json", "fox"], env)
    cases["atlas list"] = ([*atlas, "list"], env)
    cases["atlas list (SQLAlchemy)"] = ([*atlas, "list"], slow_env)
    cases["atlas show"] = ([*atlas, "show", "--json", show_id], env)
    cases["atlas show (SQLAlchemy)"] = ([*atlas, "show", "--json", show_id], slow_env)
    for command, case_env in cases.values():  # warm the page cache and the .pyc files once
        timed(command, case_env)
    times: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, (command, case_env) in cases.items():
            wall, used = timed(command, case_env)
            times[name].append(wall)
            cpu[name].append(used)
    median = {name: statistics.median(found) for name, found in times.items()}
    cpu_median = {name: statistics.median(found) for name, found in cpu.items()}
    python = median["python -c pass"]
    print(f"{args.renders} renders, {args.repeat} rounds, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          "median wall (min) and median CPU time of a new process:")
    for name, found in times.items():
        cpu_ratio = cpu_median[name] / cpu_median["python -c pass"]
        print(f"  {name:<36} {median[name] * 1000:7.1f} ms ({min(found) * 1000:6.1f})  "
              f"CPU {cpu_median[name] * 1000:7.1f} ms   x{median[name] / python:5.2f} python -c pass "
              f"(CPU x{cpu_ratio:5.2f})")
    for i in range(len(SEARCHES)):
        fast, slow = median[f"atlas search #{i + 1}"], median[f"atlas search #{i + 1} (SQLAlchemy)"]
        shell_time = median[f"sqlite3 shell #{i + 1}"]
        used = cpu_median[f"atlas search #{i + 1}"]
        print(f"search #{i + 1} {SEARCHES[i]!r}: {fast * 1000:.0f} ms (CPU {used * 1000:.0f} ms)"
              f" = x{fast / python:.2f} python -c pass, "
              f"x{fast / shell_time:.2f} the sqlite3 shell, x{fast / slow:.2f} the SQLAlchemy path "
              f"(target < 200 ms: {'met' if fast < 0.2 else 'NOT met'})")
    for name in ("atlas list", "atlas show"):
        print(f"{name}: {median[name] * 1000:.0f} ms (SQLAlchemy path {median[name + ' (SQLAlchemy)'] * 1000:.0f} ms)"
              f" (target < 200 ms: {'met' if median[name] < 0.2 else 'NOT met'})")
    if temp:
        shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
