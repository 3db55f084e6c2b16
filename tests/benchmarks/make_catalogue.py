"""Build a large synthetic catalogue fast, for benchmarks and for trying the TUI on real sizes.

    python tests/benchmarks/make_catalogue.py --home DIR --renders 100000 [--seed 1]

The catalogue is opened (and migrated) by atlas itself; the rows are then bulk-inserted with
sqlite3 in big transactions, the FTS index rebuilt once at the end instead of row by row.
Renders have no files in the store (they are rows only): search and listing do not need them.
Deterministic for a given --seed.
"""

import argparse
import json
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from atlas.core.catalogue import (
    Catalogue,
    fulltext,
)

SUBJECTS = ("fox", "cat", "dragon", "castle", "lighthouse", "robot", "forest", "city", "ship", "mountain",
            "portrait", "owl", "garden", "desert", "river", "astronaut", "samurai", "train", "library", "whale")
STYLES = ("oil painting", "watercolor", "photograph", "digital art", "pencil sketch", "cinematic",
          "anime", "isometric", "pixel art", "concept art", "studio lighting", "golden hour")
WORDS = ("red", "blue", "misty", "ancient", "glowing", "tiny", "giant", "snowy", "neon", "quiet", "stormy",
         "detailed", "sharp focus", "8k", "bokeh", "dramatic", "soft light", "highly detailed", "vivid",
         "moody", "serene", "surreal", "intricate", "colorful", "dark", "bright", "rainy", "sunset")
NEGATIVES = ("blurry", "lowres", "watermark", "text", "bad anatomy", "jpeg artifacts", "deformed",
             "extra fingers", "worst quality", "signature", "cropped", "ugly")
SAMPLERS = ("Euler", "Euler a", "DPM++ 2M", "DPM++ 2M Karras", "DPM++ SDE Karras", "DDIM", "UniPC",
            "Heun", "LMS", "DPM2 a")
SIZES = ((512, 512), (512, 768), (768, 512), (768, 768), (1024, 1024), (832, 1216), (1216, 832),
         (1024, 768), (2048, 2048), (1536, 1536))
TOOLS = ("atlas", "atlas", "atlas", "AUTOMATIC1111", "ComfyUI", "InvokeAI", "Fooocus", "NovelAI")
AUTHORS = ("alice", "bob", "carol", "dave", None)
TAGS = ("best", "wip", "print", "commons", "portfolio", "reject")
MODELS = (("sd15-demo", "creativeml-openrail-m"), ("realistic-vision", "creativeml-openrail-m"),
          ("sdxl-base", "openrail++"), ("dreamshaper", "creativeml-openrail-m"),
          ("anything-v3", "creativeml-openrail-m"))

SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite


def prompt(rng: random.Random) -> str:
    parts = [f"a {rng.choice(WORDS)} {rng.choice(SUBJECTS)}"]
    parts += rng.sample(WORDS, rng.randint(2, 6)) + [rng.choice(STYLES)]
    return ", ".join(parts)


def add_models(conn: sqlite3.Connection, rng: random.Random) -> list[int]:
    licences = {row[0] for row in conn.execute("SELECT id FROM licence")}
    ids = []
    for name, licence in MODELS:
        licence = licence if licence in licences else next(iter(sorted(licences)))
        digest = f"{rng.getrandbits(256):064x}"
        conn.execute("INSERT OR IGNORE INTO model (name, kind, source, path, format, sha256, short_hash, licence_id,"
                     " demo, config, added) VALUES (?, 'checkpoint', ?, NULL, 'diffusers', ?, ?, ?, 0, '{}', ?)",
                     (name, name, digest, digest[:10], licence, datetime.now(UTC).strftime(SQLITE_TIME)))
        ids.append(conn.execute("SELECT id FROM model WHERE name = ?", (name,)).fetchone()[0])
    return ids


def generate(conn: sqlite3.Connection, count: int, rng: random.Random, batch: int = 20_000) -> None:
    model_ids = add_models(conn, rng)
    first = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM render").fetchone()[0]) + 1
    next_pass = (conn.execute("SELECT COALESCE(MAX(id), 0) FROM pass").fetchone()[0]) + 1
    start = datetime(2024, 1, 1, tzinfo=UTC)
    span = 2 * 365 * 86400
    step = span / max(count, 1)
    for chunk in range(0, count, batch):
        renders, passes, tags = [], [], []
        for i in range(chunk, min(count, chunk + batch)):
            rid = first + i
            created = (start + timedelta(seconds=i * step + rng.random() * step)).strftime(SQLITE_TIME)
            w, h = rng.choice(SIZES)
            tool = rng.choice(TOOLS)
            renders.append((rid, f"{rng.getrandbits(256):064x}", w, h, rng.randint(200_000, 3_000_000), created,
                            rng.choice(AUTHORS), "CC-BY-4.0" if rng.random() < 0.3 else None, tool))
            roll = rng.random()
            kind = "import" if tool != "atlas" else ("txt2img" if roll < 0.8 or i == 0 else
                                                     "img2img" if roll < 0.9 else "upscale")
            source = first + rng.randrange(i) if kind in ("img2img", "upscale") else None
            model = rng.choice(model_ids) if kind != "import" else None
            settings = {"model": rng.choice(MODELS)[0]} if kind == "import" else {}
            passes.append((next_pass + i, kind, rid, source, prompt(rng), ", ".join(rng.sample(NEGATIVES, 3)),
                           rng.getrandbits(32), rng.choice(SAMPLERS), rng.randint(10, 60),
                           rng.randint(2, 30) / 2, rng.choice((None, 0.3, 0.5, 0.75)) if source else None,
                           json.dumps(settings), model, created))
            if rng.random() < 0.1:
                tags.append((rid, rng.choice(TAGS)))
        conn.executemany("INSERT INTO render (id, sha256, format, width, height, size_bytes, created, author,"
                         " licence_id, tool) VALUES (?, ?, 'png', ?, ?, ?, ?, ?, ?, ?)", renders)
        conn.executemany("INSERT INTO pass (id, kind, status, render_id, input_render_id, prompt, negative_prompt,"
                         " seed, sampler, steps, cfg, denoise, settings, model_id, software, started)"
                         " VALUES (?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)", passes)
        conn.executemany("INSERT OR IGNORE INTO tag (render_id, name) VALUES (?, ?)", tags)
        conn.commit()


def build(home: Path, count: int, seed: int = 1, quiet: bool = False) -> Path:
    """Add `count` synthetic renders to the SQLite catalogue at `home`; returns the database path."""
    catalogue = Catalogue.open(home)
    path = catalogue.home.database_path
    catalogue.close()
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA foreign_keys=OFF")  # rows are generated consistent; checking each costs time
    t0 = time.perf_counter()
    # Triggers index row by row; one rebuild at the end is several times faster.
    for sql in fulltext.SQLITE_DROP[:3]:
        conn.execute(sql)
    try:
        generate(conn, count, rng)
    finally:
        for sql in fulltext.SQLITE_DDL[1:]:
            conn.execute(sql)
        conn.commit()
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    if not quiet:
        print(f"{count} renders in {time.perf_counter() - t0:.1f}s -> {path}", file=sys.stderr)
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", required=True, type=Path, help="atlas home to create or extend")
    parser.add_argument("--renders", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    build(args.home, args.renders, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
