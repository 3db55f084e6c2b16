"""Benchmark `atlas tui` on a large catalogue, run for real in tmux (not collected by pytest).

    python tests/benchmarks/bench_tui.py [--renders 100000] [--repeat 5] [--thumbs 1000]
                                         [--only first,query,facets,thumbs,cold] [--before CHECKOUT]

Every figure is a ratio to a minimal Textual app measured in the same run, on the same machine,
with the same tmux driver (what any Textual program costs), interleaved round by round so that
load on the machine weighs on both alike:
- first: process start to the first page of rows on screen, vs the minimal app (a DataTable with
  one row) to its row; target 2x. The same app showing a page of 100 rows like atlas's is measured
  too: what Textual itself costs for such a screen. Wall time, and CPU time of the process tree up
  to then (a loaded machine stretches the wall time far more than the CPU time);
- query: Enter to the query's first page (and to its count) on screen, vs Enter to the minimal
  app's one new row (an Input and a DataTable), and vs the same app showing a new page of 100 rows
  shaped like atlas's (Textual's own cost of such a page); the core call alone is shown beside it;
- facets: `facets.all_counts` on the whole catalogue and a few queries, vs the minimal app's Enter
  to repaint (under it, counts feel instant);
- thumbs: the cursor moving through 1,000 rows, one per frame, while a worker thread makes each
  row's thumbnail (`ThumbnailCache.get`, cold then warm): the UI loop's frame delay, vs the same
  app moving its cursor with no thumbnails;
- cold: `atlas search` as a new process vs `python -c pass` and the `sqlite3` command line running
  the same indexed query (bench_cold_start.py, run on this catalogue).
"""

import argparse
import itertools
import os
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE), str(ROOT)]
THIS = {"PYTHONPATH": str(ROOT)}  # the atlas of this checkout (not the one the venv installed)

import make_catalogue  # noqa: E402

from atlas.core.actions import browsing  # noqa: E402
from atlas.core.actions.browsing import DeferredCatalogue  # noqa: E402
from atlas.core.catalogue import Catalogue  # noqa: E402
from atlas.core.catalogue.home import Home  # noqa: E402
from atlas.core.search import facets, rows  # noqa: E402
from tests.support.tmux_driver import Tmux, available  # noqa: E402

QUERIES = ["fox", 'sampler:"Euler a" cfg:7 steps:40..60 city', "kind:upscale", "tag:best sort:seed",
           "-licence:CC-BY-4.0 width:>=1024 dragon"]
FACET_QUERIES = ["", "fox", 'sampler:"Euler a" cfg:7', "tag:best"]
SECTIONS = ("first", "query", "facets", "thumbs", "cold")
# The baseline: a DataTable with one row (and, for the query round trip, an Input above it whose
# Enter replaces the row), the least a Textual program that shows a table costs.
MINIMAL = textwrap.dedent("""
    import sys
    from textual.app import App
    from textual.widgets import DataTable

    class Minimal(App):
        def compose(self):
            if "--input" in sys.argv:
                from textual.widgets import Input
                yield Input(id="q")
            yield DataTable()

        def on_mount(self):
            table = self.query_one(DataTable)
            if "--page" in sys.argv and "--input" not in sys.argv:
                self.page("minimal ready")
                return
            table.add_column("id")
            table.add_row("minimal ready")

        def page(self, first):  # a page shaped like atlas's: 100 rows of 5 cut Text cells
            from rich.text import Text
            table = self.query_one(DataTable)
            if len(table.columns) <= 1:
                table.clear(columns=True)
                for width in (14, 18, 15, 19, 50):
                    table.add_column("c", width=width)
            for i in range(100):
                cells = (first if i == 0 else str(100000 - i), "realistic-vision", "DPM++ 2M Karras",
                         str(2912119381 + i), "a vivid forest, sharp focus, det…")
                table.add_row(*(Text(v) for v in cells))

        def on_input_submitted(self, event):
            table = self.query_one(DataTable)
            table.clear()
            if "--page" in sys.argv:
                self.page("got " + event.value)
            else:
                table.add_row("got " + event.value)

    Minimal().run()
""")
SIZE = (160, 45)


def tui_argv(home: Path) -> list[str]:
    # -P: atlas comes from PYTHONPATH (this checkout, or --before's), never from the current folder.
    return [sys.executable, "-P", "-m", "atlas.cli.main", "--home", str(home), "tui", "--images", "halfcell"]


# ---- process CPU time ------------------------------------------------------------------------------

def tree_cpu(root: int) -> float:
    """CPU seconds (user + system, all threads) of process `root` and its descendants so far."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()  # after "(comm)": state, ppid, ...
        stats[int(entry)] = fields
        children.setdefault(int(fields[1]), []).append(int(entry))
    ticks = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += (int(stats[pid][11]) + int(stats[pid][12])) / ticks  # utime, stime
        todo += children.get(pid, [])
    return total


def wait_until(tmux: Tmux, done, timeout: float = 60, since: float | None = None, poll: float = 0.005) -> float:
    """Seconds from `since` until `done(screen)` holds."""
    since = time.monotonic() if since is None else since
    deadline = time.monotonic() + timeout
    while True:
        screen = tmux.capture()
        if done(screen):
            return time.monotonic() - since
        if time.monotonic() > deadline:
            raise TimeoutError(f"not on screen within {timeout}s:\n{screen}")
        time.sleep(poll)


# ---- first screen ---------------------------------------------------------------------------------

def rows_on_screen(screen: str, ids: list[int]) -> bool:
    starts = {line.split()[0] for line in screen.splitlines() if line.split()}
    return all(str(i) in starts for i in ids)


def expected(home: Path, query: str) -> tuple[str, list[int]]:
    """The status line a query must produce, and the ids of its first rows."""
    catalogue = Catalogue.open(home)
    with catalogue.session() as session:
        n = rows.count(session, query)
        first = [row.id for row in rows.page(session, query, limit=5)]
    catalogue.close()
    return f"{n:,} render{'s' if n != 1 else ''} matching {query}", first


def first_screen(argv: list[str], done, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds from the start of `argv` in tmux to `done(screen)`."""
    with Tmux(*SIZE) as tmux:
        t0 = tmux.start(argv, env={"TERM": "xterm-256color", **env})
        wall = wait_until(tmux, done, since=t0)
        return wall, tree_cpu(tmux.pid())


def first_screens(home: Path, minimal: Path, total: int, repeat: int,
                  before: Path | None = None) -> dict[str, tuple[list, list]]:
    ids = expected(home, "")[1]

    def page(screen: str) -> bool:
        return rows_on_screen(screen, ids)

    def counted(screen: str) -> bool:
        return rows_on_screen(screen, ids) and f"{total:,} renders" in screen

    cases = {"minimal Textual app": ([sys.executable, str(minimal)], lambda s: "minimal ready" in s, {}),
             "  minimal app, a page like atlas's": ([sys.executable, str(minimal), "--page"],
                                                     lambda s: "minimal ready" in s, {}),
             f"atlas tui, first page of {total:,}": (tui_argv(home), page, THIS),
             "atlas tui, page and count": (tui_argv(home), counted, THIS)}
    if before is not None:  # another checkout's atlas, for a before/after in the same run
        cases[f"  {before.name}: first page"] = (tui_argv(home), page, {"PYTHONPATH": str(before.resolve())})
        cases[f"  {before.name}: page and count"] = (tui_argv(home), counted, {"PYTHONPATH": str(before.resolve())})
    for argv, done, env in cases.values():  # .pyc files and the page cache warm, once
        first_screen(argv, done, env)
    found: dict[str, tuple[list, list]] = {name: ([], []) for name in cases}
    for _ in range(repeat):
        for name, (argv, done, env) in cases.items():
            wall, cpu = first_screen(argv, done, env)
            found[name][0].append(wall)
            found[name][1].append(cpu)
    return found


def report_first(found: dict[str, tuple[list, list]], repeat: int) -> None:
    base_wall = statistics.median(found["minimal Textual app"][0])
    base_cpu = statistics.median(found["minimal Textual app"][1])
    print(f"first screen: process start to the rows on screen (median of {repeat}; min), target 2x the minimal app")
    for name, (walls, cpus) in found.items():
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        print(f"  {name:<34} {wall:6.3f} s ({min(walls):6.3f})  {wall / base_wall:5.2f}x   "
              f"CPU {cpu:6.3f} s  {cpu / base_cpu:5.2f}x")


# ---- query round trip -----------------------------------------------------------------------------

def minimal_round_trips(minimal: Path, repeat: int, page: bool = False) -> list[float]:
    """Enter to the minimal app's new row on screen; `page`: to a new page of 100 rows shaped like
    atlas's (what Textual's DataTable costs to show such a page, atlas's own work left out)."""
    times = []
    with Tmux(*SIZE) as tmux:
        tmux.start([sys.executable, str(minimal), "--input", *(["--page"] if page else [])],
                   env={"TERM": "xterm-256color"})
        tmux.wait_for("minimal ready", timeout=60)
        time.sleep(0.3)
        for i in range(repeat * len(QUERIES)):
            word = f"q{i}"
            tmux.keys("C-u")
            tmux.type(word)
            t0 = tmux.keys("Enter", pause=0)
            times.append(tmux.wait_for(f"got {word}", timeout=30, since=t0, poll=0.005))
    return times


def query_round_trips(home: Path, total: int, repeat: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Seconds from the Enter key to the first page on screen, and to the count, per query."""
    times: dict[str, list[float]] = {q: [] for q in QUERIES}
    counted: dict[str, list[float]] = {q: [] for q in QUERIES}
    wanted = {q: expected(home, q) for q in QUERIES}
    with Tmux(*SIZE) as tmux:
        tmux.start(tui_argv(home), env={"TERM": "xterm-256color", **THIS})
        tmux.wait_for(f"{total:,} renders", timeout=60)
        tmux.wait_for("e export")
        for _ in range(repeat):
            for query in QUERIES:
                # After Enter the focus stays in the search bar: "/" there is typed, and C-u clears it.
                tmux.enter_text("/", query)
                t0 = tmux.keys("Enter", pause=0)
                # The status names the query in the same repaint that shows its first page.
                times[query].append(tmux.wait_for(f"matching {query}", timeout=30, since=t0, poll=0.005))
                counted[query].append(tmux.wait_for(wanted[query][0], timeout=30, since=t0, poll=0.005))
                screen = tmux.capture()  # the rows themselves, as capture-pane shows them
                if not rows_on_screen(screen, wanted[query][1]):
                    raise AssertionError(f"rows {wanted[query][1]} of {query!r} not on screen:\n{screen}")
        tmux.keys("Tab", "q")  # out of the search bar first, where q is a letter
        if not tmux.wait_dead():
            raise AssertionError(f"q did not quit; the screen:\n{tmux.capture()}")
    return times, counted


def core_times(home: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """(page, count) seconds of what the results table asks for, in-process (`actions/browsing.py`,
    as the TUI reads), median of `repeat`."""
    catalogue = DeferredCatalogue(Home.resolve(home), 2.0)
    out = {}
    for query in QUERIES:
        pages, counts = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            browsing.page(catalogue, query)
            t1 = time.perf_counter()
            browsing.count(catalogue, query)
            pages.append(t1 - t0)
            counts.append(time.perf_counter() - t1)
        out[query] = (statistics.median(pages), statistics.median(counts))
    return out


# ---- facets ---------------------------------------------------------------------------------------

def facet_times(home: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of `facets.all_counts` per query, median of `repeat`."""
    catalogue = Catalogue.open(home)
    out = {}
    with catalogue.session() as session:
        facets.all_counts(session, "")  # the page cache warm
        for query in FACET_QUERIES:
            walls, cpus = [], []
            for _ in range(repeat):
                t0, c0 = time.perf_counter(), time.process_time()
                facets.all_counts(session, query)
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
            out[query] = (statistics.median(walls), statistics.median(cpus))
    catalogue.close()
    return out


# ---- thumbnails following the cursor --------------------------------------------------------------

def make_images(folder: Path, count: int) -> list[Path]:
    """`count` distinct PNG renders (768x768, as a small SD render), each with its own bytes."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    base = Image.radial_gradient("L").resize((768, 768)).convert("RGB")
    paths = []
    for i in range(count):
        image = base.copy()
        draw = ImageDraw.Draw(image)
        draw.rectangle((i % 700, (i * 7) % 700, i % 700 + 60, (i * 7) % 700 + 60), fill=(i % 256, 90, 200))
        path = folder / f"render-{i:05d}.png"
        image.save(path, compress_level=1)
        paths.append(path)
    return paths


def cursor_frames(paths: list[Path], cache_root: Path | None) -> tuple[list[float], int]:
    """Seconds between UI ticks while the cursor moves one row per tick through `paths`' rows, and
    how many thumbnails were shown. With `cache_root`, one worker thread makes the thumbnail of the
    row the cursor is on (`ThumbnailCache.get`), taking the latest row each time it is free (rows
    passed meanwhile are skipped, as a pane following the cursor does), and the UI thread reads
    the thumbnail's bytes when it is done."""
    import threading

    from textual.app import App
    from textual.widgets import DataTable

    from atlas.core.thumbnails import ThumbnailCache

    cache = ThumbnailCache(cache_root) if cache_root is not None else None
    ticks: list[float] = []
    shown: list[Path] = []
    wanted: list[Path | None] = [None]
    ready = threading.Condition()
    stop = threading.Event()

    class Follow(App):
        def compose(self):
            yield DataTable(cursor_type="row")

        def on_mount(self):
            table = self.query_one(DataTable)
            table.add_column("file")
            for path in paths:
                table.add_row(path.name)
            if cache is not None:
                threading.Thread(target=self.thumbnails, daemon=True).start()
            self.set_interval(1 / 60, self.tick)

        def tick(self):
            ticks.append(time.perf_counter())
            table = self.query_one(DataTable)
            if table.cursor_row >= len(paths) - 1:
                stop.set()
                with ready:
                    ready.notify()
                self.exit()
                return
            table.move_cursor(row=table.cursor_row + 1)
            with ready:
                wanted[0] = paths[table.cursor_row]
                ready.notify()

        def thumbnails(self):
            while not stop.is_set():
                with ready:
                    while wanted[0] is None and not stop.is_set():
                        ready.wait()
                    path, wanted[0] = wanted[0], None
                if path is None:
                    continue
                made = cache.get(path)
                try:
                    self.call_from_thread(self.show, made)
                except RuntimeError:  # the app has exited meanwhile (the cursor reached the end)
                    return

        def show(self, made: Path):
            made.read_bytes()  # what a pane does with it on the UI thread: cheap
            shown.append(made)

    Follow().run(headless=True, size=SIZE)
    return [b - a for a, b in itertools.pairwise(ticks)], len(shown)


def frame_stats(gaps: list[float]) -> tuple[float, float, float]:
    ordered = sorted(gaps)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95)], ordered[-1]


# ---- the run --------------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--thumbs", type=int, default=1_000, help="rows the cursor moves through (image files made)")
    parser.add_argument("--home", type=Path, help="an existing catalogue of --renders renders (else one is built)")
    parser.add_argument("--before", type=Path, help="another atlas checkout whose first screen is measured too")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"sections to run, of {','.join(SECTIONS)}")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    if not only <= set(SECTIONS):
        parser.error(f"--only: sections are {', '.join(SECTIONS)}")
    if not available():
        print("tmux is not installed", file=sys.stderr)
        return 2
    # A user's install has its .pyc files; with PYTHONDONTWRITEBYTECODE (inherited by tmux and the
    # programs it starts) every start would compile atlas's sources again, as no real install does.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    work = Path(tempfile.mkdtemp(prefix="atlas-bench-tui-"))
    try:
        return run(args, only, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, only: set[str], work: Path) -> int:
    home = args.home
    if home is None:
        home = work / "big"
        make_catalogue.build(home, args.renders, quiet=True)
    minimal = work / "minimal.py"
    minimal.write_text(MINIMAL)
    r = args.repeat
    print(f"{args.renders:,} renders, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}\n")

    if "first" in only:
        report_first(first_screens(home, minimal, args.renders, r, args.before), r)

    base_trip = None
    if "query" in only or "facets" in only:
        base_trip = statistics.median(minimal_round_trips(minimal, r))
    if "query" in only:
        page_trip = statistics.median(minimal_round_trips(minimal, r, page=True))
        trips, counts = query_round_trips(home, args.renders, r)
        core = core_times(home, r)
        print(f"\nquery: Enter to the first page on screen, then to the count (median of {r}); the minimal app's "
              f"Enter to its new row: {base_trip * 1000:.0f} ms; to a new page of 100 rows like atlas's in a bare "
              f"DataTable ('page'): {page_trip * 1000:.0f} ms")
        for query in QUERIES:
            t, c = statistics.median(trips[query]), statistics.median(counts[query])
            alone_page, alone_count = core[query]
            print(f"  {query[:44]:<44} page {t * 1000:6.0f} ms {t / base_trip:5.2f}x ({t / page_trip:4.2f}x 'page')   "
                  f"count {c * 1000:6.0f} ms {c / base_trip:5.2f}x   core: page {alone_page * 1000:4.0f}, "
                  f"count {alone_count * 1000:4.0f} ms")

    if "facets" in only:
        found = facet_times(home, r)
        print(f"\nfacets.all_counts ({len(facets.FACETS)} facets) on {args.renders:,} renders (median of {r}), vs the "
              f"minimal app's Enter to repaint ({base_trip * 1000:.0f} ms)")
        for query, (wall, cpu) in found.items():
            print(f"  {query or '(all renders)':<30} {wall * 1000:7.1f} ms  {wall / base_trip:5.2f}x   "
                  f"CPU {cpu * 1000:7.1f} ms")

    if "thumbs" in only:
        paths = make_images(work / "images", args.thumbs)
        cache = work / "thumbs"
        plain, _ = cursor_frames(paths, None)
        c0 = time.process_time()
        cold, cold_shown = cursor_frames(paths, cache)
        cold_cpu = time.process_time() - c0
        made = sum(1 for _ in cache.rglob("*.jpg"))
        c0 = time.process_time()
        warm, warm_shown = cursor_frames(paths, cache)
        warm_cpu = time.process_time() - c0
        base = frame_stats(plain)
        print(f"\nthumbnails: the cursor through {len(paths):,} rows, one row per 1/60 s tick, each row's thumbnail "
              f"made in a worker (ThumbnailCache.get); gaps between UI ticks, median / p95 / max")
        for name, gaps in (("cursor alone (baseline)", plain), ("thumbnails cold", cold), ("thumbnails warm", warm)):
            med, p95, most = frame_stats(gaps)
            print(f"  {name:<26} {med * 1000:6.1f} / {p95 * 1000:6.1f} / {most * 1000:6.1f} ms   "
                  f"p95 {p95 / base[1]:5.2f}x  max {most / base[2]:5.2f}x the baseline")
        print(f"  cold pass: {made} thumbnails made, {cold_shown} shown (the latest row wins: rows passed while one "
              f"was being made are skipped), CPU {cold_cpu:.2f} s; warm pass: {warm_shown} shown, CPU {warm_cpu:.2f} s")

    if "cold" in only:
        import bench_cold_start

        print()
        bench_cold_start.main(["--home", str(home), "--renders", str(args.renders), "--repeat", str(max(r, 5))])
    return 0


if __name__ == "__main__":
    sys.exit(main())
