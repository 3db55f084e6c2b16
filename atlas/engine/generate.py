"""Run a pass against the catalogue: record it, do the work, store the output, or record the failure."""

import io

from atlas.core import settings
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model, Pass
from atlas.core.record import models
from atlas.core.record.requests import Txt2ImgRequest
from atlas.core.record.samplers import resolve
from atlas.core.record.write import RenderInfo, begin_pass, check_licence, fail_pass, failure_recorded, finish_pass
from atlas.engine import demo_model, device, pipelines, rng, txt2img


def resolve_model(catalogue: Catalogue, name: str | None) -> Model:
    with catalogue.session() as session:
        if name:
            return models.get(session, name, kind="checkpoint")
        found = models.default_checkpoint(session)
    return found or demo_model.ensure(catalogue)


def encode_png(image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def run_pass(catalogue: Catalogue, step: Pass, work, info: RenderInfo):
    """Record `step`, call `work()` -> (PIL image, pass updates), store the output.

    An exception or Ctrl-C marks the pass failed or interrupted and leaves no file behind.
    """
    pass_id = begin_pass(catalogue, step)
    with failure_recorded(lambda status, error: fail_pass(catalogue, pass_id, status, error)):
        image, updates = work()
        data = encode_png(image)
        return finish_pass(catalogue, pass_id, data, image.width, image.height, info, updates)


def generate(catalogue: Catalogue, request: Txt2ImgRequest, info: RenderInfo, progress=None,
             run_id: int | None = None, position: int | None = None):
    request.checked()
    sampler, schedule = resolve(request.sampler, request.schedule)
    check_licence(catalogue, info)
    model = resolve_model(catalogue, request.model)
    seed = settings.resolve_seed(request.seed)
    pipe = pipelines.for_model(model)
    device.check_memory(pipe, request.width, request.height)
    noise_settings = request.seeding()
    seeds, variation_seeds = noise_settings.image_seeds(seed, 1)
    step = Pass(kind="txt2img", prompt=request.prompt, negative_prompt=request.negative_prompt, seed=seed,
                sampler=sampler, steps=request.steps, cfg=request.cfg, width=request.width,
                height=request.height, model_id=model.id, software=device.software(),
                device=device.pick().description, run_id=run_id, position=position,
                settings={"schedule_type": schedule, **noise_settings.to_settings()})

    def work():
        shape = txt2img.latent_shape(pipe, request.width, request.height)
        noise = rng.image_noise(shape, seeds, noise_settings, variation_seeds)
        result = txt2img.run(pipe, request.prompt, request.negative_prompt, request.steps, sampler,
                             request.cfg, request.width, request.height, seed, progress, schedule=schedule,
                             noise=noise)
        return result.image, {"steps_run": result.steps_run}

    return run_pass(catalogue, step, work, info)
