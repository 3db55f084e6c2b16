"""Run a rerender plan (`atlas.core.actions.rerender`): the pass's pixels again, nothing recorded.

Each kind calls the same compute the recording pass calls (`txt2img.run`, `passes.outpaint_image`,
`passes.upscale_image`; img2img's few lines are mirrored below and must stay equal to
`passes.img2img`'s work), so a rerender disagrees with the file only if the computation does.
"""

from PIL import Image
from sqlmodel import select

from atlas.core.actions.rerender import Comparison, Plan, compare
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model
from atlas.core.record.samplers import resolve
from atlas.engine import passes, pipelines, rng, sampling, txt2img, upscalers


def _model(catalogue: Catalogue, name: str, kind: str) -> Model:
    with catalogue.session() as session:
        row = session.exec(select(Model).where(Model.name == name, Model.kind == kind)).first()
    if row is None:  # the plan named a registered model; it was removed since
        raise RuntimeError(f"{kind} {name!r} is no longer registered")
    return row


def render(catalogue: Catalogue, plan: Plan, progress=None) -> Image.Image:
    """The image the planned pass makes now."""
    model = _model(catalogue, plan.model, "checkpoint")
    pipe = pipelines.for_model(model)
    request = plan.request
    sampler, schedule = resolve(request.sampler, request.schedule)
    noise_settings = request.seeding()
    if plan.kind == "txt2img":
        seeds, variation_seeds = noise_settings.image_seeds(request.seed, 1)
        noise = rng.image_noise(txt2img.latent_shape(pipe, request.width, request.height), seeds, noise_settings,
                                variation_seeds)
        return txt2img.run(pipe, request.prompt, request.negative_prompt, request.steps, sampler, request.cfg,
                           request.width, request.height, request.seed, progress, schedule=schedule,
                           noise=noise).image
    assert plan.input is not None  # the plan refuses a pass without its input
    with Image.open(plan.input) as stored:
        image = stored.convert("RGB")
    ctx = passes.Context(0, image, request.prompt, request.negative_prompt, sampler, request.cfg, model, schedule,
                         noise_settings)
    if plan.kind == "img2img":
        cond = sampling.encode_prompts(pipe, ctx.prompt, ctx.negative_prompt)
        init = sampling.encode_images(pipe, [image])
        latents, _ = sampling.img2img_latents(pipe, init, cond, request.steps, request.denoise, ctx.sampler,
                                              ctx.cfg, [request.seed], progress=progress, schedule=schedule,
                                              noise=rng.image_noise(tuple(init.shape[1:]), [request.seed],
                                                                    noise_settings))
        return sampling.decode_latents(pipe, latents)[0]
    if plan.kind == "outpaint":
        return passes.outpaint_image(pipe, image, ctx, request, request.seed, progress)[0]
    descriptor = None
    if plan.upscaler is not None:
        descriptor = upscalers.load_file(_model(catalogue, plan.upscaler, "upscaler").path)
    return passes.upscale_image(pipe, descriptor, image, ctx, request, request.seed, progress)[0]


def rerender(catalogue: Catalogue, plan: Plan, progress=None) -> Comparison:
    return compare(plan.expected, render(catalogue, plan, progress))
