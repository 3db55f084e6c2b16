"""Benchmark: one SD upscale pass to 8192x4096 on the demo model (demo SwinIR x2, tile 512,
overlap 256, as the reference's second pass): peak RSS (target under 6 GB) and tiles per second.

Baselines, measured in the same run: the same pass to 2048x1024 (peak RSS: memory should not grow
with the image area, since tiles stream), and tiles per second one tile at a time versus batched
(on the 2048x1024 pass: 21 tiles). Steps default to 10 (2 run per tile at denoise 0.1) to keep the
8192x4096 pass to minutes on a CPU; pass --steps 150 for the reference setting.
Run: .venv/bin/python tests/benchmarks/bench_upscale.py [--steps N] [--batch N]

--fullsize: one SD upscale pass (x2, Lanczos, tile 512, overlap 256, denoise 0.1, Euler a) of a
2048x1024 input (4096x2048 out, 105 tiles) on SD 1.5's full-size architecture (fullsize_model.py):
time per tile (wall and CPU) and peak RSS of atlas's engine pass against bare diffusers img2img
calls one tile at a time, each in a process of its own (_fullsize_upscale_job.py); on CUDA (fp16)
also atlas with --batch tiles at a time. --tiles N crops the input to one row of N output tiles
(a short CPU run):
    .venv/bin/python tests/benchmarks/bench_upscale.py --fullsize --tiles 2 --steps 5
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import measure

JOB = """
import json, sys, time
from PIL import Image
from atlas.core.catalogue import Catalogue
from atlas.core.record.write import RenderInfo
from atlas.core.importers.batch import import_file
from atlas.engine import passes, upscalers
width, height, steps, batch = map(int, sys.argv[1:5])
catalogue = Catalogue.open()
src = catalogue.home.root / f"src-{width}x{height}.png"
if not src.exists():
    import numpy as np
    rng = np.random.default_rng(0)
    small = Image.fromarray(rng.integers(0, 255, (height // 64, width // 64, 3), dtype=np.uint8))
    small.resize((width // 2, height // 2), Image.Resampling.BICUBIC).save(src)
source = import_file(catalogue, src)
request = passes.UpscaleRequest(prompt="a city", upscaler=upscalers.DEMO_UPSCALER_NAME, scale=2, tile=512,
                                overlap=256, steps=steps, denoise=0.1, batch=batch, seed=1,
                                model="atlas-demo-tiny-sd")
started = time.monotonic()
render = passes.upscale(catalogue, source.id, request, RenderInfo())
seconds = time.monotonic() - started
from atlas.core.record.build import producing_pass
with catalogue.session() as session:
    tiles = len(producing_pass(session, render.id).settings["tiles"])
print(json.dumps({"tiles": tiles, "seconds": seconds, "size": [render.width, render.height]}))
"""


def job(env, width, height, steps, batch):
    _wall, rss, out = measure(["-c", JOB, str(width), str(height), str(steps), str(batch)], env)
    facts = json.loads(out.strip().splitlines()[-1])
    return facts, rss


def fullsize_source(path: Path, tiles: int | None) -> Path:
    """The 2048x1024 input (smooth noise), cropped to one row of `tiles` output tiles if asked."""
    import numpy as np
    from _fullsize_upscale_job import OVERLAP, SCALE, TILE
    from PIL import Image

    small = np.random.default_rng(0).integers(0, 255, (16, 32, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize((2048, 1024), Image.Resampling.BICUBIC)
    if tiles:
        width = min(2048, (TILE + (tiles - 1) * (TILE - OVERLAP)) // SCALE)
        image = image.crop((0, 0, width, TILE // SCALE))
    image.save(path)
    return path


def fullsize(args) -> None:
    import fullsize_model
    import torch

    from atlas.core.catalogue import Catalogue

    home = Path(tempfile.mkdtemp(prefix="atlas-bench-")) / "home"
    fullsize_model.ensure(Catalogue.open(home))  # build (once per machine) and register before any clock
    source = fullsize_source(home / "source.png", args.tiles)
    script = str(Path(__file__).resolve().parent / "_fullsize_upscale_job.py")
    jobs = [("bare diffusers, 1 tile at a time", "bare", 1), ("atlas engine, batch 1", "atlas", 1)]
    if torch.cuda.is_available():
        jobs.append((f"atlas engine, batch {args.batch}", "atlas", args.batch))
    rows = []
    for name, mode, batch in jobs:
        out = measure([script, mode, str(source), str(args.steps), str(batch)], {"ATLAS_HOME": str(home)})[2]
        rows.append((name, json.loads(out.strip().splitlines()[-1])))
    from PIL import Image

    with Image.open(source) as image:
        size = image.size
    base = rows[0][1]
    per_tile = lambda f, key="seconds": f[key] / f["tiles"]  # noqa: E731
    print(f"SD upscale x2 of {size[0]}x{size[1]} (2048x1024{' cropped' if size != (2048, 1024) else ''}), "
          f"tile 512, overlap 256, {args.steps} steps (run per tile: {int(0.1 * args.steps) + 1}), "
          f"{base['device']}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'what':<34} {'tiles':>5} {'s/tile':>8} {'x bare':>7} {'CPU s/tile':>10} {'x bare':>7} "
          f"{'peak RSS MiB':>12} {'x bare':>7} {'CUDA MiB':>9}")
    for name, f in rows:
        print(f"{name:<34} {f['tiles']:5d} {per_tile(f):8.2f} {per_tile(f) / per_tile(base):7.3f} "
              f"{per_tile(f, 'cpu_seconds'):10.2f} {per_tile(f, 'cpu_seconds') / per_tile(base, 'cpu_seconds'):7.3f} "
              f"{f['rss_mib']:12.0f} {f['rss_mib'] / base['rss_mib']:7.3f} {f['cuda_mib']:9.0f}")
    if len(rows) > 2:
        one, many = rows[1][1], rows[2][1]
        print(f"CUDA fp16, atlas batch {args.batch} vs batch 1: s/tile x{per_tile(many) / per_tile(one):.3f}, "
              f"peak CUDA memory x{many['cuda_mib'] / one['cuda_mib']:.3f}")
    else:
        print("CUDA fp16, batched tiles vs one at a time: skipped (no CUDA device here)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--fullsize", action="store_true", help="the full-size SD 1.5 pass (see above)")
    parser.add_argument("--tiles", type=int, help="with --fullsize: crop the input to one row of N tiles")
    args = parser.parse_args()
    if args.fullsize:
        fullsize(args)
        return
    home = Path(tempfile.mkdtemp(prefix="atlas-bench-")) / "home"
    env = {"ATLAS_HOME": str(home)}
    measure(["-c", "from atlas.core.catalogue import Catalogue; from atlas.engine import demo_model, upscalers;"
             "c = Catalogue.open(); demo_model.ensure(c); upscalers.ensure_demo(c)"], env)
    one, one_rss = job(env, 2048, 1024, args.steps, 1)
    many, many_rss = job(env, 2048, 1024, args.steps, args.batch)
    big, big_rss = job(env, 8192, 4096, args.steps, args.batch)
    rate = lambda f: f["tiles"] / f["seconds"]  # noqa: E731
    print(f"steps {args.steps} (run per tile: {int(min(0.1, 0.999) * args.steps) + 1}), tile 512, overlap 256")
    print(f"2048x1024, batch 1:  {one['tiles']:4d} tiles {rate(one):6.2f} tiles/s  peak RSS {one_rss:7.0f} MiB")
    print(f"2048x1024, batch {args.batch}:  {many['tiles']:4d} tiles {rate(many):6.2f} tiles/s  "
          f"peak RSS {many_rss:7.0f} MiB")
    print(f"8192x4096, batch {args.batch}:  {big['tiles']:4d} tiles {rate(big):6.2f} tiles/s  "
          f"peak RSS {big_rss:7.0f} MiB ({big['seconds']:.0f} s)")
    print(f"ratio batched/one-at-a-time tiles/s: x{rate(many) / rate(one):.2f}")
    print(f"ratio peak RSS 8192x4096 / 2048x1024 (16x the pixels): x{big_rss / many_rss:.2f}; "
          f"under 6 GB: {big_rss < 6 * 1024}")


if __name__ == "__main__":
    main()
