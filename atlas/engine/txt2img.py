"""The txt2img pass: prompt to image, sampled as A1111 samples it.

k-diffusion samplers run in `atlas.engine.ksampling` on the pipeline's own text encoder, UNet and
VAE; DDIM, PLMS and UniPC still run the diffusers pipeline with a scheduler configured like A1111's.
"""

from collections.abc import Callable
from dataclasses import dataclass

import torch

from atlas.core.record.samplers import SAMPLERS, resolve
from atlas.engine import rng, sampling, schedulers
from atlas.engine.ksampling import drive
from atlas.engine.ksampling.denoiser import for_pipeline

Progress = Callable[[int, int], None]  # (step done, steps total)


@dataclass
class Result:
    image: object  # PIL.Image
    steps_run: int


def generator(seed: int) -> torch.Generator:
    # Noise is drawn on the CPU so a seed gives the same picture on every device.
    return torch.Generator("cpu").manual_seed(seed)


def step_counter(total: int, progress: Progress | None):
    """A callback_on_step_end that counts the steps actually run and reports them."""
    done = [0]

    def on_step_end(_pipe, _step, _timestep, kwargs):
        done[0] += 1
        if progress is not None:
            progress(done[0], total)
        return kwargs

    return on_step_end, done


def latent_shape(pipe, width: int, height: int) -> tuple[int, int, int]:
    factor = 2 ** (len(pipe.vae.config.block_out_channels) - 1)
    return pipe.unet.config.in_channels, height // factor, width // factor


def run(pipe, prompt: str, negative_prompt: str, steps: int, sampler: str, cfg: float,
        width: int, height: int, seed: int, progress: Progress | None = None, *,
        schedule: str | None = None, noise: rng.NoiseSource | None = None) -> Result:
    """One image. `sampler` is A1111's name (an old combined name carries its schedule); `schedule`
    None or "Automatic" is the sampler's default; `noise` None draws from `seed`."""
    name, schedule = resolve(sampler, schedule)
    noise = noise if noise is not None else rng.ImageNoise(latent_shape(pipe, width, height), [seed])
    if not SAMPLERS[name].uses_sigmas:
        return _pipeline_run(pipe, prompt, negative_prompt, steps, name, cfg, width, height, noise, progress)
    cond = sampling.encode_prompts(pipe, prompt, negative_prompt)
    denoiser = for_pipeline(pipe, cond.positive, cond.negative, cfg)
    latents, steps_run = drive.txt2img(denoiser, name, schedule, steps, noise, progress, pipe.unet.device)
    image = sampling.decode_latents(pipe, latents.to(pipe.vae.dtype))[0]
    return Result(image=image, steps_run=steps_run)


def _pipeline_run(pipe, prompt, negative_prompt, steps, sampler, cfg, width, height, noise, progress) -> Result:
    scheduler = schedulers.make(pipe.scheduler.config, sampler)
    original, pipe.scheduler = pipe.scheduler, scheduler
    on_step_end, done = step_counter(steps, progress)
    try:
        # The pipeline scales the start noise by the scheduler's init_noise_sigma itself.
        output = pipe(prompt=prompt, negative_prompt=negative_prompt or None, num_inference_steps=steps,
                      guidance_scale=cfg, width=width, height=height,
                      latents=noise.first().to(device=pipe.unet.device, dtype=pipe.unet.dtype),
                      callback_on_step_end=on_step_end)
    finally:
        pipe.scheduler = original
    return Result(image=output.images[0], steps_run=done[0])
