"""Benchmark: atlas's txt2img pass against a bare diffusers pipeline call, in one process.

Same model (the demo pipeline, loaded once), same scheduler, size, steps, CFG and seed. The atlas
side includes everything a user pays for: recording the pass, PNG encoding, the embedded record,
the store write and the catalogue commit. Prints medians and the overhead ratio (target < 1.05).

    python tests/benchmarks/bench_txt2img.py [--size 768x512] [--steps 20] [--repeats 5]
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="768x512")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))

    from atlas.core.catalogue import Catalogue
    from atlas.core.record.write import RenderInfo
    from atlas.engine import pipelines, schedulers, txt2img
    from atlas.engine.demo_model import ensure
    from atlas.engine.generate import Txt2ImgRequest, generate

    catalogue = Catalogue.open(Path(tempfile.mkdtemp(prefix="atlas-bench-")))
    model = ensure(catalogue)
    pipe = pipelines.for_model(model)
    prompt = "a futuristic city with high tech machines and bright lights"

    def bare() -> None:
        pipe.scheduler = schedulers.make(pipe.scheduler.config, "Euler a")
        pipe(prompt=prompt, num_inference_steps=args.steps, guidance_scale=7.0, width=width, height=height,
             generator=txt2img.generator(42))

    def atlas_pass() -> None:
        generate(catalogue, Txt2ImgRequest(prompt=prompt, steps=args.steps, width=width, height=height, seed=42,
                                           model=model.name), RenderInfo(licence_id="CC0-1.0"))

    bare(), atlas_pass()  # warm-up: first calls pay for lazy initialisation
    timings = {"bare diffusers": [], "atlas txt2img pass": []}
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits both sides alike
        for name, func in (("bare diffusers", bare), ("atlas txt2img pass", atlas_pass)):
            start = time.perf_counter()
            func()
            timings[name].append(time.perf_counter() - start)
    base = statistics.median(timings["bare diffusers"])
    for name, values in timings.items():
        print(f"{name:<20} median {statistics.median(values):7.3f} s  (min {min(values):.3f}, n={len(values)})")
    ratio = statistics.median(timings["atlas txt2img pass"]) / base
    print(f"overhead ratio atlas/bare: {ratio:.3f}  (target < 1.05) at {width}x{height}, {args.steps} steps")


if __name__ == "__main__":
    main()
