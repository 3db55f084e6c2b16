"""The txt2img pass: prompt to image, sampled as A1111 samples it.

k-diffusion samplers run in `atlas.engine.ksampling`, DDIM, PLMS and UniPC in
`atlas.engine.timestep_drive`, both on the pipeline's own text encoder, UNet and VAE.
"""

from collections.abc import Callable
from dataclasses import dataclass

from atlas.core.record.samplers import SAMPLERS, resolve
from atlas.engine import rng, sampling, timestep_drive
from atlas.engine.ksampling import drive
from atlas.engine.ksampling.denoiser import for_pipeline

Progress = Callable[[int, int], None]  # (step done, steps total)


@dataclass
class Result:
    image: object  # PIL.Image
    steps_run: int


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
    cond = sampling.encode_prompts(pipe, prompt, negative_prompt)
    if SAMPLERS[name].uses_sigmas:
        denoiser = for_pipeline(pipe, cond.positive, cond.negative, cfg)
        latents, steps_run = drive.txt2img(denoiser, name, schedule, steps, noise, progress, pipe.unet.device)
    else:  # DDIM, PLMS, UniPC
        latents, steps_run = timestep_drive.txt2img(pipe, cond.positive, cond.negative, cfg, name, steps, noise,
                                                    progress)
    image = sampling.decode_latents(pipe, latents.to(pipe.vae.dtype))[0]
    return Result(image=image, steps_run=steps_run)
