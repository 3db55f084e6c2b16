"""Benchmark: atlas's txt2img pass against a bare diffusers pipeline call, in one process.

Same components (loaded once, shared), sampler (Euler a: diffusers' EulerAncestralDiscreteScheduler,
built here without atlas on the bare side), size, steps, CFG and seed. The atlas side goes through
the engine's public entry (atlas.engine.generate.generate) and includes everything a user pays
for: recording the pass, PNG encoding, the embedded record, the store write and the catalogue
commit. Prints medians and the overhead ratio (target <= 1.03) of wall and of CPU time
(on CUDA read the wall figure; on a busy shared CPU the CPU-time one, with OMP_WAIT_POLICY=PASSIVE
set so OpenMP threads waiting for a core do not spin and bill CPU time).

--model demo is the tiny demo model; --model fullsize is SD 1.5's architecture with random weights
(fullsize_model.py, built on first use), the issue's setting: --size 768x512 --steps 4.

    python tests/benchmarks/bench_txt2img.py [--model demo|fullsize] [--size 768x512] [--steps 20] [--repeats 5]
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

TARGET = 1.03


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=("demo", "fullsize"), default="demo")
    parser.add_argument("--size", default="768x512")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))

    import torch
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionPipeline

    from atlas.core.catalogue import Catalogue
    from atlas.core.record.write import RenderInfo
    from atlas.engine import demo_model, device, pipelines
    from atlas.engine.generate import Txt2ImgRequest, generate

    catalogue = Catalogue.open(Path(tempfile.mkdtemp(prefix="atlas-bench-")))
    if args.model == "fullsize":
        import fullsize_model

        model = fullsize_model.ensure(catalogue)
    else:
        model = demo_model.ensure(catalogue)
    pipe = pipelines.for_model(model)
    # A pipeline of its own over the same modules, so atlas's scheduler swaps never touch it.
    scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="linspace")
    bare_pipe = StableDiffusionPipeline(**{**pipe.components, "scheduler": scheduler},
                                        requires_safety_checker=False)
    bare_pipe.set_progress_bar_config(disable=True)
    prompt = "a futuristic city with high tech machines and bright lights"

    def bare(steps: int, width: int = width, height: int = height) -> None:
        bare_pipe(prompt=prompt, num_inference_steps=steps, guidance_scale=7.0, width=width, height=height,
                  generator=torch.Generator("cpu").manual_seed(42))

    def atlas_pass(steps: int, width: int = width, height: int = height) -> None:
        generate(catalogue, Txt2ImgRequest(prompt=prompt, steps=steps, sampler="Euler a", cfg=7.0, width=width,
                                           height=height, seed=42, model=model.name), RenderInfo(licence_id="CC0-1.0"))

    # Warm-up: first calls pay for lazy initialisation; small, as the full-size model is slow on a CPU.
    bare(1, 64, 64), atlas_pass(1, 64, 64)
    # Wall time, and this process's CPU time: on a shared CPU the latter is far less noisy.
    timings: dict[str, list[tuple[float, float]]] = {"bare diffusers": [], "atlas engine pass": []}
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits both sides alike
        for name, func in (("bare diffusers", bare), ("atlas engine pass", atlas_pass)):
            wall, cpu = time.perf_counter(), time.process_time()
            func(args.steps)
            timings[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    print(f"txt2img {width}x{height}, {args.steps} steps, Euler a, CFG 7, model {model.name}, "
          f"{device.pick().description} {str(device.pick().dtype).removeprefix('torch.')}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'side':<20} {'wall s':>9} {'min':>8} {'CPU s':>9} {'min':>8} {'n':>3}")
    medians = {}
    for name, values in timings.items():
        walls, cpus = [v[0] for v in values], [v[1] for v in values]
        medians[name] = statistics.median(walls), statistics.median(cpus)
        print(f"{name:<20} {medians[name][0]:9.3f} {min(walls):8.3f} {medians[name][1]:9.3f} {min(cpus):8.3f} "
              f"{len(values):3d}")
    for label, i in (("wall", 0), ("CPU time", 1)):
        ratio = medians["atlas engine pass"][i] / medians["bare diffusers"][i]
        print(f"overhead ratio atlas/bare, {label}: {ratio:.3f} "
              f"(target <= {TARGET}: {'met' if ratio <= TARGET else 'NOT met'})")

if __name__ == "__main__":
    main()
