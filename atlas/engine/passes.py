"""The passes that take an input render: img2img, Outpainting mk2 and SD upscale.

Each records a Pass pointing at its input render, reads the input's pixels from the store (so a
resumed run sees exactly what an uninterrupted one saw), and stores a new render. Prompt, negative
prompt, sampler, CFG and model default to those of the input's lineage.
"""

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from atlas.core import seeding, settings
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model, Pass
from atlas.core.errors import BadInput
from atlas.core.record.build import get_render, lineage
from atlas.core.record.recipes import upscale_size
from atlas.core.record.requests import Img2ImgRequest, OutpaintRequest, PassRequest, UpscaleRequest
from atlas.core.record.samplers import canonical, recorded, resolve
from atlas.core.record.write import RenderInfo, check_licence
from atlas.engine import device, pipelines, rng, sampling, tiles, upscalers
from atlas.engine import outpaint as mk2
from atlas.engine.generate import resolve_model, run_pass


@dataclass
class Context:
    """What a pass starts from: its input image and the settings it inherits."""

    render_id: int
    image: Image.Image
    prompt: str
    negative_prompt: str
    sampler: str
    cfg: float
    model: Model
    schedule: str = "Automatic"  # the schedule type that runs, resolved for `sampler`
    noise: seeding.SeedSettings = field(default_factory=seeding.SeedSettings)  # how the noise is drawn


def load_input(catalogue: Catalogue, render_id: int) -> Image.Image:
    with catalogue.session() as session:
        render = get_render(session, render_id)
        path = catalogue.file_of(render)
    if path is None:
        raise BadInput(f"render {render_id} has no file")
    with Image.open(path) as image:
        return image.convert("RGB")


def context(catalogue: Catalogue, render_id: int, request: PassRequest) -> Context:
    """The input render and the prompt/sampler/CFG/model that `request` leaves to its lineage."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
        chain = list(reversed(lineage(session, render)))

        def inherited(attr, default):
            for step in chain:
                value = getattr(step, attr)
                if value not in (None, ""):
                    return value
            return default

        prompt = request.prompt if request.prompt is not None else inherited("prompt", "")
        negative = (request.negative_prompt if request.negative_prompt is not None
                    else inherited("negative_prompt", ""))
        # "Automatic" with an inherited sampler keeps the schedule that sampler ran with.
        chosen = request.schedule if request.schedule != "Automatic" or request.sampler else None
        if request.sampler:
            sampler, schedule = resolve(request.sampler, chosen)
        else:  # the sampler and the schedule it ran with, from the same pass
            source = next((s for s in chain if s.sampler), None)
            sampler, schedule = (known_sampler(source.sampler, (source.settings or {}).get("schedule_type"))
                                 if source else resolve("Euler a"))
            if chosen:
                sampler, schedule = resolve(sampler, chosen)
        cfg = request.cfg if request.cfg is not None else float(inherited("cfg", 7.0))
        model_id = None if request.model else inherited("model_id", None)
        model = session.get(Model, model_id) if model_id else None
    if model is None:
        model = resolve_model(catalogue, request.model)
    return Context(render_id, load_input(catalogue, render_id), prompt, negative, sampler, cfg, model, schedule,
                   request.seeding())


def known_sampler(name: str, schedule: str | None = None) -> tuple[str, str]:
    """An inherited sampler and the schedule it ran with (A1111's names); an imported file may name
    one atlas lacks."""
    try:
        return recorded(canonical(name), schedule)
    except BadInput:
        return resolve("Euler a")


def base_pass(kind: str, ctx: Context, request: PassRequest, seed: int, run_id, position) -> Pass:
    return Pass(kind=kind, input_render_id=ctx.render_id, prompt=ctx.prompt, negative_prompt=ctx.negative_prompt,
                seed=seed, sampler=ctx.sampler, steps=request.steps, cfg=ctx.cfg, denoise=request.denoise,
                model_id=ctx.model.id, software=device.software(), device=device.pick().description,
                run_id=run_id, position=position,
                settings={"schedule_type": ctx.schedule, **ctx.noise.to_settings()})


def check_size(width: int, height: int, what: str) -> None:
    if width % 8 or height % 8:
        raise BadInput(f"{what} is {width}x{height}; its sides must be multiples of 8 for the VAE")


# --- img2img -------------------------------------------------------------------------------------

def img2img(catalogue: Catalogue, render_id: int, request: Img2ImgRequest, info: RenderInfo, progress=None,
            run_id=None, position=None):
    request.checked()
    check_licence(catalogue, info)
    ctx = context(catalogue, render_id, request)
    width, height = ctx.image.size
    check_size(width, height, f"input render {render_id}")
    seed = settings.resolve_seed(request.seed)
    pipe = pipelines.for_model(ctx.model)
    device.check_memory(pipe, width, height)
    step = base_pass("img2img", ctx, request, seed, run_id, position)
    step.width, step.height = width, height

    def work():
        cond = sampling.encode_prompts(pipe, ctx.prompt, ctx.negative_prompt)
        init = sampling.encode_images(pipe, [ctx.image])
        latents, run = sampling.img2img_latents(pipe, init, cond, request.steps, request.denoise, ctx.sampler,
                                                ctx.cfg, [seed], progress=progress, schedule=ctx.schedule,
                                                noise=rng.image_noise(tuple(init.shape[1:]), [seed], ctx.noise))
        return sampling.decode_latents(pipe, latents)[0], {"steps_run": run}

    return run_pass(catalogue, step, work, info)


# --- Outpainting mk2 -----------------------------------------------------------------------------

def outpaint_image(pipe, image: Image.Image, ctx: Context, request: OutpaintRequest, seed: int,
                   progress=None) -> tuple[Image.Image, int, mk2.Layout]:
    """One Outpainting mk2 pass as A1111 runs it (steps in engine/outpaint.py). The seed drives the
    sampler only: A1111's matched noise has none."""
    lay = mk2.layout(image.width, image.height, request.side, request.pixels, request.window)
    work = mk2.work_mask(lay, request.mask_blur)
    canvas = mk2.init_canvas(image, lay, work, request.falloff, request.colour_variation)
    x0, y0, x1, y1 = lay.window
    window_init = canvas.crop(lay.window)
    overlay = mk2.overlay_mask(mk2.blurred_mask(work[y0:y1, x0:x1], request.mask_blur, lay.horizontal))
    free_cells = mk2.latent_free(mk2.latent_rectangle(lay, request.mask_blur))
    cond = sampling.encode_prompts(pipe, ctx.prompt, ctx.negative_prompt)
    init = sampling.encode_images(pipe, [window_init])
    free = init.new_tensor(free_cells)[None, None]  # 1: the model may change the latent, 0: held
    latents, run = sampling.img2img_latents(pipe, init, cond, request.steps, request.denoise, ctx.sampler,
                                            ctx.cfg, [seed], free=free, progress=progress, schedule=ctx.schedule,
                                            noise=rng.image_noise(tuple(init.shape[1:]), [seed], ctx.noise))
    made = sampling.decode_latents(pipe, latents)[0]
    return mk2.finish(canvas, mk2.composite(made, window_init, overlay), lay), run, lay


def outpaint(catalogue: Catalogue, render_id: int, request: OutpaintRequest, info: RenderInfo, progress=None,
             run_id=None, position=None):
    request.checked()
    check_licence(catalogue, info)
    ctx = context(catalogue, render_id, request)
    check_size(ctx.image.width, ctx.image.height, f"input render {render_id}")
    seed = settings.resolve_seed(request.seed)
    pipe = pipelines.for_model(ctx.model)
    lay = mk2.layout(ctx.image.width, ctx.image.height, request.side, request.pixels, request.window)
    step = base_pass("outpaint", ctx, request, seed, run_id, position)
    step.width, step.height = lay.window[2] - lay.window[0], lay.window[3] - lay.window[1]
    step.settings = {**step.settings,  # the schedule type base_pass recorded
                     "script": "Outpainting mk2", "side": request.side, "pixels": request.pixels,
                     "mask_blur": request.mask_blur, "falloff": request.falloff,
                     "colour_variation": request.colour_variation}

    def work():
        image, run, _ = outpaint_image(pipe, ctx.image, ctx, request, seed, progress)
        return image, {"steps_run": run}

    return run_pass(catalogue, step, work, info)


# --- SD upscale ----------------------------------------------------------------------------------

def upscale_image(pipe, descriptor, image: Image.Image, ctx: Context, request: UpscaleRequest, seed: int,
                  progress=None) -> tuple[Image.Image, dict]:
    """A1111's SD upscale script: upscale (or, with the "None" upscaler, keep) the flattened input,
    img2img every tile of the grid in batches, and combine the tiles (see atlas/engine/tiles.py).

    The tile is `request.tile` square (A1111 tiles at its width x height sliders). Rows are combined
    as soon as their tiles are done, so one row of tiles is held, never the whole set."""
    image = upscalers.flatten(image)
    if upscalers.builtin(request.upscaler) == upscalers.NONE:
        big, applied = image, 0
    else:
        step = upscalers.model_step(descriptor) if descriptor is not None else upscalers.lanczos_step(request.scale)
        big, applied = upscalers.upscale(image, request.scale, step)
    grid = tile_grid(big.width, big.height, request)
    flat = grid.tiles
    seeds = tiles.seeds(seed, len(flat), request.batch)
    cond = sampling.encode_prompts(pipe, ctx.prompt, ctx.negative_prompt)
    assembler = tiles.Assembler(grid)
    steps_run = 0
    run_per_tile = settings.a1111_img2img_steps(request.steps, request.denoise)
    total = run_per_tile * -(-len(flat) // request.batch)
    for start in range(0, len(flat), request.batch):
        batch = flat[start:start + request.batch]
        # A tile reaching past the image (an image smaller than the tile) is cut with black beyond it.
        init = sampling.encode_images(pipe, [big.crop(t.box) for t in batch])

        def tile_progress(step, _total, base=start // request.batch * run_per_tile):
            if progress is not None:
                progress(base + step, total)

        # Each batch draws as A1111's does: the tiles' own seeds, variation seeds counting up within it.
        noise = rng.image_noise(tuple(init.shape[1:]), seeds[start:start + request.batch], ctx.noise)
        latents, steps_run = sampling.img2img_latents(pipe, init, cond, request.steps, request.denoise,
                                                      ctx.sampler, ctx.cfg, seeds[start:start + request.batch],
                                                      progress=tile_progress, schedule=ctx.schedule, noise=noise)
        for t, made in zip(batch, sampling.decode_latents(pipe, latents), strict=True):
            assembler.add(t, np.asarray(made.convert("RGB")))
    del big
    out = Image.fromarray(assembler.image(), "RGB")
    facts = {"steps_run": steps_run, "tile_seeds": seeds, "tiles": [list(t.box) for t in flat],
             "model_applications": applied}
    return out, facts


def tile_grid(width: int, height: int, request: UpscaleRequest) -> tiles.Grid:
    try:
        return tiles.grid(width, height, request.tile, request.tile, request.overlap)
    except ValueError as exc:
        raise BadInput(f"SD upscale cannot tile a {width}x{height} image: {exc}") from None


def upscale(catalogue: Catalogue, render_id: int, request: UpscaleRequest, info: RenderInfo, progress=None,
            run_id=None, position=None):
    request.checked()
    check_licence(catalogue, info)
    upscaler = upscalers.resolve(catalogue, request.upscaler)
    ctx = context(catalogue, render_id, request)
    seed = settings.resolve_seed(request.seed)
    descriptor = upscalers.load_file(upscaler.path) if upscaler is not None else None
    if upscalers.builtin(request.upscaler) == upscalers.NONE:
        width, height = ctx.image.size  # A1111 does not resize at all with the "None" upscaler
    else:
        width, height = upscale_size(ctx.image.width, ctx.image.height, request.scale)
    grid = tile_grid(width, height, request)
    pipe = pipelines.for_model(ctx.model)
    step = base_pass("upscale", ctx, request, seed, run_id, position)
    step.width, step.height = request.tile, request.tile  # A1111's Size: the tile (its width x height sliders)
    step.upscaler_id = upscaler.id if upscaler is not None else None
    step.settings = {**step.settings,  # the schedule type base_pass recorded
                     "script": "SD upscale",
                     "upscaler": upscaler.name if upscaler else upscalers.builtin(request.upscaler),
                     "scale": request.scale, "tile": request.tile, "overlap": request.overlap,
                     "batch": request.batch, "tiles": [list(t.box) for t in grid.tiles],
                     "tile_seeds": tiles.seeds(seed, len(grid.tiles), request.batch)}

    def work():
        image, facts = upscale_image(pipe, descriptor, ctx.image, ctx, request, seed, progress)
        tile_settings = {**step.settings, "tile_seeds": facts["tile_seeds"]}
        return image, {"steps_run": facts["steps_run"], "settings": tile_settings}

    return run_pass(catalogue, step, work, info)
