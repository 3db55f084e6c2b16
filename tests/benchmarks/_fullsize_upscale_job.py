"""One SD-upscale pass on the benchmark model, in a process of its own (run by bench_upscale.py --fullsize).

    python _fullsize_upscale_job.py atlas|bare SOURCE.png STEPS BATCH

atlas: atlas's engine pass (atlas.engine.passes.upscale) on a catalogue (ATLAS_HOME) where the
benchmark model is registered. bare: diffusers' StableDiffusionImg2ImgPipeline called one tile at a
time over the same grid, sampler, step count and CFG, pasting tiles without blending. Both upscale
with Lanczos first. Prints one JSON line: tiles, wall and CPU seconds for the whole pass, peak RSS
during the pass (the loaded model included, the load's own transient peak not: the kernel's
high-water mark is reset once the model is in), peak CUDA memory.
"""

import io
import json
import sys
import time
from pathlib import Path

TILE, OVERLAP, SCALE, DENOISE, SEED, CFG, PROMPT = 512, 256, 2, 0.1, 1, 7.0, "a city"


def reset_peaks() -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: VmHWM := current RSS
    except OSError:
        pass
    import torch

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peaks() -> tuple[float, float]:
    """(peak RSS MiB, peak CUDA memory MiB)."""
    import resource

    import torch

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    status = Path("/proc/self/status")
    if status.exists():
        rss = next(int(line.split()[1]) / 1024 for line in status.read_text().splitlines()
                   if line.startswith("VmHWM:"))
    cuda = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0.0
    return rss, cuda


def tile_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """Tiles spread evenly with at least OVERLAP between neighbours (as SD upscale lays them out)."""
    def starts(length: int) -> list[int]:
        if length <= TILE:
            return [0]
        count = -(-(length - OVERLAP) // (TILE - OVERLAP))
        return [int(i * (length - TILE) / (count - 1)) for i in range(count)]

    return [(x, y, x + TILE, y + TILE) for y in starts(height) for x in starts(width)]


def atlas_pass(source: Path, steps: int, batch: int) -> tuple[int, tuple[float, float], str]:
    import fullsize_model

    from atlas.core.catalogue import Catalogue
    from atlas.core.importers.batch import import_file
    from atlas.core.record.build import producing_pass
    from atlas.core.record.write import RenderInfo
    from atlas.engine import device, passes, pipelines, upscalers

    catalogue = Catalogue.open()
    model = fullsize_model.ensure(catalogue)
    render = import_file(catalogue, source)
    pipelines.for_model(model)  # load (and cache) before the clock starts
    request = passes.UpscaleRequest(prompt=PROMPT, sampler="Euler a", cfg=CFG, upscaler=upscalers.LANCZOS,
                                    scale=SCALE, tile=TILE, overlap=OVERLAP, steps=steps, denoise=DENOISE,
                                    batch=batch, seed=SEED, model=model.name)
    reset_peaks()
    started = time.perf_counter(), time.process_time()
    made = passes.upscale(catalogue, render.id, request, RenderInfo())
    seconds = time.perf_counter() - started[0], time.process_time() - started[1]
    with catalogue.session() as session:
        tiles = len(producing_pass(session, made.id).settings["tiles"])
    return tiles, seconds, device.pick().description


def bare_pass(source: Path, steps: int) -> tuple[int, tuple[float, float], str]:
    import fullsize_model
    import torch
    from diffusers import EulerAncestralDiscreteScheduler, StableDiffusionImg2ImgPipeline
    from PIL import Image

    from atlas.engine.pipelines import quiet

    quiet()
    cuda = torch.cuda.is_available()
    pipe = StableDiffusionImg2ImgPipeline.from_pretrained(
        str(fullsize_model.folder()), dtype=torch.float16 if cuda else torch.float32, safety_checker=None,
        requires_safety_checker=False, local_files_only=True).to("cuda" if cuda else "cpu")
    pipe.scheduler = EulerAncestralDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="linspace")
    pipe.set_progress_bar_config(disable=True)
    run = int(min(DENOISE, 0.999) * steps) + 1  # A1111's img2img step count, which atlas runs per tile
    strength = min(1.0, (run + 0.5) / steps)  # diffusers runs int(steps * strength) steps: the same count
    reset_peaks()
    started = time.perf_counter(), time.process_time()
    with Image.open(source) as image:
        big = image.convert("RGB").resize((image.width * SCALE, image.height * SCALE), Image.Resampling.LANCZOS)
    out = Image.new("RGB", big.size)
    boxes = tile_boxes(*big.size)
    for index, box in enumerate(boxes):
        tile = pipe(prompt=PROMPT, image=big.crop(box), strength=strength, num_inference_steps=steps,
                    guidance_scale=CFG, generator=torch.Generator("cpu").manual_seed(SEED + index)).images[0]
        out.paste(tile, box[:2])
    out.save(io.BytesIO(), format="PNG")
    seconds = time.perf_counter() - started[0], time.process_time() - started[1]
    return len(boxes), seconds, "cuda fp16" if cuda else "cpu fp32"


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    mode, source, steps, batch = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    tiles, seconds, where = atlas_pass(source, steps, batch) if mode == "atlas" else bare_pass(source, steps)
    rss, cuda = peaks()
    print(json.dumps({"tiles": tiles, "seconds": seconds[0], "cpu_seconds": seconds[1], "rss_mib": rss,
                      "cuda_mib": cuda, "device": where}))


if __name__ == "__main__":
    main()
