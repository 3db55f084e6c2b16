"""Benchmark: one SD upscale pass to 8192x4096 on the demo model (demo SwinIR x2, tile 512,
overlap 256, as the reference's second pass): peak RSS (target under 6 GB) and tiles per second.

Baselines, measured in the same run: the same pass to 2048x1024 (peak RSS: memory should not grow
with the image area, since tiles stream), and tiles per second one tile at a time versus batched
(on the 2048x1024 pass: 21 tiles). Steps default to 10 (2 run per tile at denoise 0.1) to keep the
8192x4096 pass to minutes on a CPU; pass --steps 150 for the reference setting.
Run: .venv/bin/python tests/benchmarks/bench_upscale.py [--steps N] [--batch N]
"""

import argparse
import json
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
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
