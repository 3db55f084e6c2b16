"""Benchmark `atlas tui` on large catalogues, run for real in tmux (not collected by pytest).

    python tests/benchmarks/bench_tui.py [--renders 100000] [--small 1000] [--repeat 3]

Targets (issue 7): the first screen in under 2 s on 100,000 renders; a query back in under 0.5 s.
Every figure is also given as a ratio against baselines measured in the same run, on the same
machine, with the same tmux driver:
- startup vs a minimal Textual app that shows one line (what any Textual program costs);
- 100,000 renders vs 1,000 renders (lazy pages: size should barely matter);
- the query round trip vs the core call alone (`rows.page` + `rows.count` in-process).
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

import make_catalogue  # noqa: E402

from atlas.core.catalogue import Catalogue  # noqa: E402
from atlas.core.search import rows  # noqa: E402
from tests.support.tmux_driver import Tmux, available  # noqa: E402

QUERIES = ["fox", 'sampler:"Euler a" cfg:7 steps:40..60 city', "kind:upscale", "tag:best sort:seed",
           "-licence:CC-BY-4.0 width:>=1024 dragon"]
HELLO = textwrap.dedent("""
    from textual.app import App
    from textual.widgets import Static

    class Hello(App):
        def compose(self):
            yield Static("hello ready")

    Hello().run()
""")


def tui_argv(home: Path) -> list[str]:
    return [sys.executable, "-m", "atlas.cli.main", "--home", str(home), "tui", "--images", "halfcell"]


def startup(argv: list[str], ready: str) -> float:
    with Tmux(160, 45) as tmux:
        t0 = tmux.start(argv, env={"TERM": "xterm-256color"})
        return tmux.wait_for(ready, timeout=60, since=t0, poll=0.005)


def expected(home: Path, query: str) -> tuple[str, list[int]]:
    """The status line a query must produce, and the ids of its first rows."""
    catalogue = Catalogue.open(home)
    with catalogue.session() as session:
        n = rows.count(session, query)
        first = [row.id for row in rows.page(session, query, limit=5)]
    catalogue.close()
    return f"{n:,} render{'s' if n != 1 else ''} matching {query}", first


def rows_on_screen(screen: str, ids: list[int]) -> bool:
    starts = {line.split()[0] for line in screen.splitlines() if line.split()}
    return all(str(i) in starts for i in ids)


def query_round_trips(home: Path, total: int, repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds from the Enter key to the first page on screen, and to the count, per query."""
    times = {q: [] for q in QUERIES}
    counted = {q: [] for q in QUERIES}
    wanted = {q: expected(home, q) for q in QUERIES}
    with Tmux(160, 45) as tmux:
        tmux.start(tui_argv(home), env={"TERM": "xterm-256color"})
        tmux.wait_for(f"{total:,} renders", timeout=60)
        tmux.wait_for("e export")
        for _ in range(repeat):
            for query in QUERIES:
                tmux.enter_text("/", query)
                t0 = tmux.keys("Enter", pause=0)
                # The status names the query in the same repaint that shows its first page.
                times[query].append(tmux.wait_for(f"matching {query}", timeout=30, since=t0, poll=0.005))
                counted[query].append(tmux.wait_for(wanted[query][0], timeout=30, since=t0, poll=0.005))
                screen = tmux.capture()  # the rows themselves, as capture-pane shows them
                if not rows_on_screen(screen, wanted[query][1]):
                    raise AssertionError(f"rows {wanted[query][1]} of {query!r} not on screen:\n{screen}")
        tmux.keys("q")
    return ({q: statistics.median(v) for q, v in times.items()},
            {q: statistics.median(v) for q, v in counted.items()})


def core_times(home: Path, repeat: int) -> dict[str, float]:
    catalogue = Catalogue.open(home)
    out = {}
    with catalogue.session() as session:
        for query in QUERIES:
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                rows.page(session, query)
                rows.count(session, query)
                runs.append(time.perf_counter() - t0)
            out[query] = statistics.median(runs)
    catalogue.close()
    return out


def page_times(home: Path, repeat: int) -> dict[str, float]:
    """Lazy pages: the first page, a page deep in the table, and a page sorted by a computed column."""
    catalogue = Catalogue.open(home)
    cases = {"first page": dict(offset=0), "page at 50,000": dict(offset=50_000),
             "first page sorted by size": dict(sort="size"), "first page sorted by prompt": dict(sort="prompt")}
    out = {}
    with catalogue.session() as session:
        for name, kwargs in cases.items():
            runs = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                rows.page(session, "", **kwargs)
                runs.append(time.perf_counter() - t0)
            out[name] = statistics.median(runs)
    catalogue.close()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if not available():
        print("tmux is not installed", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="atlas-bench-tui-"))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> int:
    big, small = work / "big", work / "small"
    make_catalogue.build(big, args.renders, quiet=True)
    make_catalogue.build(small, args.small, quiet=True)
    hello = work / "hello.py"
    hello.write_text(HELLO)

    r = args.repeat
    base = statistics.median(startup([sys.executable, str(hello)], "hello ready") for _ in range(r))
    small_start = statistics.median(startup(tui_argv(small), f"{args.small:,} renders") for _ in range(r))
    big_start = statistics.median(startup(tui_argv(big), f"{args.renders:,} renders") for _ in range(r))
    print(f"startup to the first screen (median of {r}), target < 2 s on {args.renders:,} renders")
    print(f"  minimal Textual app (baseline)   {base:6.3f} s   1.00x")
    print(f"  atlas tui, {args.small:>7,} renders      {small_start:6.3f} s   {small_start / base:.2f}x baseline")
    print(f"  atlas tui, {args.renders:>7,} renders      {big_start:6.3f} s   {big_start / base:.2f}x baseline, "
          f"{big_start / small_start:.2f}x the small catalogue   {'OK' if big_start < 2 else 'OVER TARGET'}")

    trips_big, counts_big = query_round_trips(big, args.renders, r)
    trips_small, _counts_small = query_round_trips(small, args.small, r)
    core = core_times(big, r)
    print(f"\nquery: Enter to the first page on screen (median of {r}), target < 0.5 s on {args.renders:,} renders;"
          f" then to the count")
    for query in QUERIES:
        t = trips_big[query]
        print(f"  {query[:44]:<44} {t:6.3f} s  {t / trips_small[query]:5.2f}x on {args.small:,}  count at "
              f"{counts_big[query]:6.3f} s  core page+count alone {core[query]:6.3f} s   "
              f"{'OK' if t < 0.5 else 'OVER TARGET'}")

    pages = page_times(big, r)
    first = pages["first page"]
    print(f"\npages of {rows.PAGE_SIZE} rows on {args.renders:,} renders (core, median of {r})")
    for name, t in pages.items():
        print(f"  {name:<30} {t * 1000:7.1f} ms   {t / first:6.2f}x the first page")
    return 0


if __name__ == "__main__":
    sys.exit(main())
