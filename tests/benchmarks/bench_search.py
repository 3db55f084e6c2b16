"""Benchmark: `atlas.core.search.sql` on a large synthetic catalogue against a linear scan in Python.

    python tests/benchmarks/bench_search.py [--renders 1000000] [--home DIR] [--repeats 5]

Twenty typical queries (parameter queries and full-text ones) run through `search.search`
(limit 50, newest first) on a SQLite catalogue built by make_catalogue.py; the baseline evaluates
the same conditions over the same rows held in Python lists (loading them is not timed). Prints,
per query and for each group, the median time of `--repeats` runs, the p50/p95 across the group,
and atlas/baseline ratios. Also times `atlas search` as a fresh process (start + answer) against
`python -c pass`. Targets: p95 < 50 ms (parameters), < 150 ms (full text); CLI < 1 s.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_catalogue

from atlas.core.catalogue import Catalogue
from atlas.core.search import sql as search
from atlas.core.search.parse import parse

UTC = UTC


def words(text):
    return set(re.findall(r"\w+", text.lower()))


def phrase_in(phrase, text):
    return re.search(r"\b" + r"\W+".join(map(re.escape, phrase.lower().split())) + r"\b", text.lower()) is not None


def queries(sample):
    """(group, query, python predicate over a row dict) — the same meaning on both sides."""
    seed, hash_prefix = sample["seed"], sample["hash"][:8]
    march = (datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 4, 1, tzinfo=UTC))
    return [
        ("param", f"seed:{seed}", lambda r: r["seed"] == seed),
        ("param", "steps:40", lambda r: r["steps"] == 40),
        ("param", "steps:20..30", lambda r: r["steps"] is not None and 20 <= r["steps"] <= 30),
        ("param", "cfg:>=7", lambda r: r["cfg"] is not None and r["cfg"] >= 7),
        ("param", 'sampler:"Euler a"', lambda r: (r["sampler"] or "").lower() == "euler a"),
        ("param", "sampler:dpm*", lambda r: (r["sampler"] or "").lower().startswith("dpm")),
        ("param", "size:768x512", lambda r: (r["width"], r["height"]) == (768, 512)),
        ("param", "size:1024x*", lambda r: r["width"] == 1024),
        ("param", "model:sdxl-base", lambda r: r["model"] == "sdxl-base"),
        ("param", f"model-hash:{hash_prefix}", lambda r: (r["hash"] or "").startswith(hash_prefix)),
        ("param", "licence:CC-BY-4.0", lambda r: (r["licence"] or "").lower() == "cc-by-4.0"),
        ("param", "author:alice steps:30..40",
         lambda r: (r["author"] or "").lower() == "alice" and r["steps"] is not None and 30 <= r["steps"] <= 40),
        ("param", "tag:best", lambda r: "best" in r["tags"]),
        ("param", "created:2025-03", lambda r: march[0] <= r["created"] < march[1]),
        ("param", "tool:ComfyUI cfg:7", lambda r: r["tool"].lower() == "comfyui" and r["cfg"] == 7),
        ("param", "-sampler:euler* steps:>55 sort:-seed",
         lambda r: not (r["sampler"] or "").lower().startswith("euler") and (r["steps"] or 0) > 55),
        ("text", "fox", lambda r: "fox" in r["words"]),
        ("text", '"golden hour" castle', lambda r: phrase_in("golden hour", r["text"]) and "castle" in r["words"]),
        ("text", "misty* sampler:Euler cfg:7..9",
         lambda r: any(w.startswith("misty") for w in r["words"]) and (r["sampler"] or "").lower() == "euler"
         and r["cfg"] is not None and 7 <= r["cfg"] <= 9),
        ("text", "dragon OR whale", lambda r: "dragon" in r["words"] or "whale" in r["words"]),
    ]


def load_rows(db_path):
    """Every render with its producing pass, model and tags, as Python dicts (the baseline's data)."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    tags = {}
    for rid, name in conn.execute("SELECT render_id, name FROM tag"):
        tags.setdefault(rid, set()).add(name)
    rows = []
    sql = ("SELECT r.id, r.created, r.width, r.height, r.author, r.licence_id, r.tool, p.seed, p.steps, p.cfg,"
           " p.sampler, p.prompt, p.negative_prompt, m.name, m.sha256, json_extract(p.settings, '$.model')"
           " FROM render r LEFT JOIN pass p ON p.render_id = r.id AND p.status = 'completed'"
           " LEFT JOIN model m ON m.id = p.model_id")
    for (rid, created, w, h, author, licence, tool, seed, steps, cfg, sampler, prompt, negative, model, sha,
         imported) in conn.execute(sql):
        text = f"{prompt} {negative}"
        rows.append({"id": rid, "created": datetime.fromisoformat(created).replace(tzinfo=UTC), "width": w,
                     "height": h, "author": author, "licence": licence, "tool": tool, "seed": seed, "steps": steps,
                     "cfg": cfg, "sampler": sampler, "text": text, "words": words(text),
                     "model": model or imported, "hash": sha, "tags": tags.get(rid, set())})
    conn.close()
    return rows


def scan(rows, predicate, sort_key, reverse, limit=50):
    hits = [r for r in rows if predicate(r)]
    hits.sort(key=sort_key, reverse=reverse)
    return [r["id"] for r in hits[:limit]]


def timed(fn, repeats):
    fn()  # warm: caches, statement compilation
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, help="reuse (or build once) a catalogue here")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--baseline-repeats", type=int, default=1)
    parser.add_argument("--cli-renders", type=int, default=100_000)
    args = parser.parse_args()

    home = args.home or Path(tempfile.mkdtemp(prefix="atlas-bench-search-"))
    db = home / "atlas.db"
    if not db.exists():
        t0 = time.perf_counter()
        make_catalogue.build(home, args.renders, quiet=True)
        print(f"built {args.renders:,} renders in {time.perf_counter() - t0:.0f} s", flush=True)
    catalogue = Catalogue.open(home)
    t0 = time.perf_counter()
    rows = load_rows(db)
    print(f"baseline data: {len(rows):,} rows loaded into Python in {time.perf_counter() - t0:.0f} s (not timed)")
    sample = next(r for r in rows[len(rows) // 3:] if r["hash"])

    results = {"param": [], "text": []}
    print(f"\n{'query':42} {'atlas ms':>9} {'scan ms':>9} {'ratio':>7} {'hits':>5}")
    with catalogue.session() as session:
        for group, text, predicate in queries(sample):
            query = parse(text)
            got = [r.id for r in search.search(session, text)]
            sort = query.sort[0]
            def key(r, f=sort.field):
                return ((r[f] if r[f] is not None else -1, r["id"]))
            expected = scan(rows, predicate, key, sort.descending)
            if got != expected:
                print(f"  MISMATCH for {text!r}: atlas {got[:5]}... scan {expected[:5]}...")
            t_atlas = timed(lambda: search.search(session, text), args.repeats)
            t_scan = timed(lambda: scan(rows, predicate, key, sort.descending), args.baseline_repeats)
            results[group].append((t_atlas, t_scan))
            print(f"{text:42} {t_atlas * 1e3:9.1f} {t_scan * 1e3:9.0f} {t_atlas / t_scan:7.4f} {len(got):5}",
                  flush=True)
    catalogue.close()

    print()
    for group, target in (("param", 50), ("text", 150)):
        atlas = [a for a, _ in results[group]]
        base = [b for _, b in results[group]]
        print(f"{group:5}: atlas p50 {pct(atlas, 50) * 1e3:.1f} ms, p95 {pct(atlas, 95) * 1e3:.1f} ms "
              f"(target p95 < {target} ms) | scan p50 {pct(base, 50) * 1e3:.0f} ms, p95 {pct(base, 95) * 1e3:.0f} ms"
              f" | ratio p50 {pct(atlas, 50) / pct(base, 50):.4f}, p95 {pct(atlas, 95) / pct(base, 95):.4f}")

    cli_home = Path(tempfile.mkdtemp(prefix="atlas-bench-cli-"))
    make_catalogue.build(cli_home, args.cli_renders, quiet=True)
    env = {**os.environ, "ATLAS_HOME": str(cli_home)}
    env.pop("ATLAS_DATABASE_URL", None)

    def run(cmd):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=env)
        return time.perf_counter() - t0

    atlas_cmd = [sys.executable, "-m", "atlas.cli.main", "search", 'sampler:"Euler a"', "cfg:7", "steps:40..60",
                 "city"]
    t_cli = timed(lambda: run(atlas_cmd), 5)
    t_py = timed(lambda: run([sys.executable, "-c", "pass"]), 5)
    print(f"\natlas search as a new process on {args.cli_renders:,} renders: {t_cli * 1e3:.0f} ms (target < 1000)"
          f" | python -c pass: {t_py * 1e3:.0f} ms | ratio {t_cli / t_py:.1f}")


if __name__ == "__main__":
    main()
