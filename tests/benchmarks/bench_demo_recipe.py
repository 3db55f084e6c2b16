"""Benchmark: `atlas demo` (the demo recipe: 1 txt2img + 14 outpaint + 2 SD upscale passes).

Baseline, measured in the same run: a single txt2img on the demo model at 512x384, 20 steps (what
`atlas demo` did before recipes). Both run as fresh `atlas` processes on a home that already holds
the demo model, so neither pays for building it. Run: .venv/bin/python tests/benchmarks/bench_demo_recipe.py
"""

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _child import measure


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="atlas-bench-")) / "home"
    env = {"ATLAS_HOME": str(home)}
    measure(["-m", "atlas.cli.main", "init"], env)
    measure(["-c", "from atlas.core.catalogue import Catalogue; from atlas.engine import demo_model, upscalers;"
             "c = Catalogue.open(); demo_model.ensure(c); upscalers.ensure_demo(c)"], env)
    base_wall, base_rss, _ = measure(["-m", "atlas.cli.main", "generate", "a city", "--size", "512x384",
                                      "--steps", "20", "--seed", "1", "--model", "atlas-demo-tiny-sd"], env)
    wall, rss, _ = measure(["-m", "atlas.cli.main", "demo", "--seed", "1", "--json"], env)
    print(f"baseline txt2img 512x384x20: {base_wall:6.1f} s wall, peak RSS {base_rss:7.0f} MiB")
    print(f"demo recipe (17 passes):     {wall:6.1f} s wall, peak RSS {rss:7.0f} MiB")
    print(f"ratio demo/baseline: wall x{wall / base_wall:.2f}, peak RSS x{rss / base_rss:.2f}")


if __name__ == "__main__":
    main()
