"""The passes that take an input render: img2img, Outpainting mk2 and SD upscale.

Each records a Pass pointing at its input render, reads the input's pixels from the store (so a
resumed run sees exactly what an uninterrupted one saw), and stores a new render. Prompt, negative
prompt, sampler, CFG and model default to those of the input's lineage.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

from atlas.core import settings
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model, Pass
from atlas.core.errors import BadInput
from atlas.core.record.build import get_render, lineage
from atlas.core.record.recipes import upscale_size
from atlas.core.record.samplers import canonical
from atlas.core.record.write import RenderInfo, check_licence
from atlas.engine import device, pipelines, sampling, tiles, upscalers
from atlas.engine import outpaint as mk2
from atlas.engine.generate import resolve_model, run_pass


@dataclass
class PassRequest:
    """Settings shared by every pass kind; None means "as in the input's lineage"."""

    prompt: str | None = None
    negative_prompt: str | None = None
    steps: int = 50
    sampler: str | None = None
    cfg: float | None = None
    denoise: float = 0.75
    seed: int = -1
    model: str | None = None

    def check_common(self):
        settings.check_steps(self.steps)
        settings.check_denoise(self.denoise)
        settings.check_seed(self.seed)
        if self.cfg is not None:
            settings.check_cfg(self.cfg)
        if self.sampler is not None:
            self.sampler = canonical(self.sampler)
        return self


@dataclass
class Img2ImgRequest(PassRequest):
    def checked(self):
        return self.check_common()


@dataclass
class OutpaintRequest(PassRequest):
    side: str = "left"
    pixels: int = 128
    mask_blur: int = 8
    falloff: float = 1.8
    colour_variation: float = 0.03
    steps: int = 100
    denoise: float = 0.8
    window: int = mk2.WINDOW

    def checked(self):
        self.check_common()
        if self.side not in mk2.SIDES:
            raise BadInput(f"side must be one of {', '.join(mk2.SIDES)}, not {self.side!r}")
        if self.pixels < 8 or self.pixels > 4096 or self.pixels % 8:
            raise BadInput(f"pixels must be a multiple of 8 between 8 and 4096, got {self.pixels}")
        if not 0 <= self.mask_blur <= 256:
            raise BadInput(f"mask blur must be between 0 and 256, got {self.mask_blur}")
        if not 0 <= self.falloff <= 10:
            raise BadInput(f"fall-off exponent must be between 0 and 10, got {self.falloff:g}")
        if not 0 <= self.colour_variation <= 1:
            raise BadInput(f"colour variation must be between 0 and 1, got {self.colour_variation:g}")
        return self


@dataclass
class UpscaleRequest(PassRequest):
    upscaler: str | None = upscalers.LANCZOS
    scale: float = 2.0
    tile: int = 512
    overlap: int = 128
    batch: int = 1
    steps: int = 150
    denoise: float = 0.1

    def checked(self):
        self.check_common()
        if not 1 < self.scale <= 8:
            raise BadInput(f"scale must be above 1 and at most 8, got {self.scale:g}")
        if self.tile < 64 or self.tile % 8:
            raise BadInput(f"tile size must be a multiple of 8, at least 64, got {self.tile}")
        if self.overlap < 0 or self.overlap >= self.tile:
            raise BadInput(f"tile overlap must be between 0 and the tile size ({self.tile}), got {self.overlap}")
        if not 1 <= self.batch <= 64:
            raise BadInput(f"batch must be between 1 and 64, got {self.batch}")
        return self


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
        sampler = request.sampler or known_sampler(inherited("sampler", "Euler a"))
        cfg = request.cfg if request.cfg is not None else float(inherited("cfg", 7.0))
        model_id = None if request.model else inherited("model_id", None)
        model = session.get(Model, model_id) if model_id else None
    if model is None:
        model = resolve_model(catalogue, request.model)
    return Context(render_id, load_input(catalogue, render_id), prompt, negative, sampler, cfg, model)


def known_sampler(name: str) -> str:
    """An inherited sampler name in A1111's spelling; an imported file may name one atlas lacks."""
    try:
        return canonical(name)
    except BadInput:
        return "Euler a"


def base_pass(kind: str, ctx: Context, request: PassRequest, seed: int, run_id, position) -> Pass:
    return Pass(kind=kind, input_render_id=ctx.render_id, prompt=ctx.prompt, negative_prompt=ctx.negative_prompt,
                seed=seed, sampler=ctx.sampler, steps=request.steps, cfg=ctx.cfg, denoise=request.denoise,
                model_id=ctx.model.id, software=device.software(), device=device.pick().description,
                run_id=run_id, position=position, settings={})


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
    step = base_pass("img2img", ctx, request, seed, run_id, position)
    step.width, step.height = width, height

    def work():
        cond = sampling.encode_prompts(pipe, ctx.prompt, ctx.negative_prompt)
        init = sampling.encode_images(pipe, [ctx.image])
        latents, run = sampling.img2img_latents(pipe, init, cond, request.steps, request.denoise, ctx.sampler,
                                                ctx.cfg, [seed], progress=progress)
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
                                            ctx.cfg, [seed], free=free, progress=progress)
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
    step.settings = {"script": "Outpainting mk2", "side": request.side, "pixels": request.pixels,
                     "mask_blur": request.mask_blur, "falloff": request.falloff,
                     "colour_variation": request.colour_variation}

    def work():
        image, run, _ = outpaint_image(pipe, ctx.image, ctx, request, seed, progress)
        return image, {"steps_run": run}

    return run_pass(catalogue, step, work, info)


# --- SD upscale ----------------------------------------------------------------------------------

def upscale_image(pipe, descriptor, image: Image.Image, ctx: Context, request: UpscaleRequest, seed: int,
                  progress=None) -> tuple[Image.Image, dict]:
    width, height = upscale_size(image.width, image.height, request.scale)
    big, applied = upscalers.upscale_to(descriptor, image, width, height)
    rows = tiles.grid(width, height, request.tile, request.overlap)
    flat = [t for row in rows for t in row]
    seeds = [seed + t.index for t in flat]
    cond = sampling.encode_prompts(pipe, ctx.prompt, ctx.negative_prompt)
    canvas = np.zeros((height, width, 3), dtype=np.float32)
    filled, done_tiles, finished = 0, {}, 0
    steps_run = 0
    run_per_tile = settings.a1111_img2img_steps(request.steps, request.denoise)
    total = run_per_tile * -(-len(flat) // request.batch)
    for start in range(0, len(flat), request.batch):
        batch = flat[start:start + request.batch]
        init = sampling.encode_images(pipe, [big.crop(t.box) for t in batch])

        def tile_progress(step, _total, base=start // request.batch * run_per_tile):
            if progress is not None:
                progress(base + step, total)

        latents, steps_run = sampling.img2img_latents(pipe, init, cond, request.steps, request.denoise,
                                                      ctx.sampler, ctx.cfg, seeds[start:start + request.batch],
                                                      progress=tile_progress)
        for t, made in zip(batch, sampling.decode_latents(pipe, latents), strict=False):
            done_tiles[t.index] = np.asarray(made)
        # Blend every row whose tiles are all done, then drop them: memory holds one row of tiles.
        while finished < len(rows) and all(t.index in done_tiles for t in rows[finished]):
            row = rows[finished]
            strip = tiles.blend_row(row, [done_tiles.pop(t.index) for t in row], width)
            filled = tiles.blend_into(canvas, strip, row[0].y, filled)
            finished += 1
    del big
    out = Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8), "RGB")
    facts = {"steps_run": steps_run, "tile_seeds": seeds, "tiles": [list(t.box) for t in flat],
             "model_applications": applied}
    return out, facts


def upscale(catalogue: Catalogue, render_id: int, request: UpscaleRequest, info: RenderInfo, progress=None,
            run_id=None, position=None):
    request.checked()
    check_licence(catalogue, info)
    upscaler = upscalers.resolve(catalogue, request.upscaler)
    ctx = context(catalogue, render_id, request)
    seed = settings.resolve_seed(request.seed)
    descriptor = upscalers.load_file(upscaler.path) if upscaler is not None else None
    pipe = pipelines.for_model(ctx.model)
    width, height = upscale_size(ctx.image.width, ctx.image.height, request.scale)
    step = base_pass("upscale", ctx, request, seed, run_id, position)
    step.width, step.height = min(request.tile, width), min(request.tile, height)
    step.upscaler_id = upscaler.id if upscaler is not None else None
    grid = tiles.grid(width, height, request.tile, request.overlap)
    step.settings = {"script": "SD upscale", "upscaler": upscaler.name if upscaler else upscalers.LANCZOS,
                     "scale": request.scale, "tile": request.tile, "overlap": request.overlap,
                     "batch": request.batch, "tiles": [list(t.box) for row in grid for t in row],
                     "tile_seeds": []}

    def work():
        image, facts = upscale_image(pipe, descriptor, ctx.image, ctx, request, seed, progress)
        tile_settings = {**step.settings, "tile_seeds": facts["tile_seeds"]}
        return image, {"steps_run": facts["steps_run"], "settings": tile_settings}

    return run_pass(catalogue, step, work, info)
