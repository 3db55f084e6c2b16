"""The img2img sampling shared by img2img, outpainting and SD-upscale tiles, and the latent plumbing
around it (prompt encoding, VAE encode/decode, masks).

Samplers run as A1111 runs them (`atlas.engine.ksampling`): A1111's step count (t_enc + 1 steps of
a `steps`-step schedule), a known area held by blending the model's clean estimate with the clean
init latent at every step (outpainting), and per-image noise so a tile's result does not depend on
the batch it ran in.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from atlas.core.record.samplers import SAMPLERS, resolve
from atlas.core.settings import a1111_img2img_steps
from atlas.engine import rng, schedulers
from atlas.engine.ksampling import drive
from atlas.engine.ksampling.denoiser import for_pipeline

Progress = Callable[[int, int], None]


@dataclass
class Conditioning:
    positive: torch.Tensor
    negative: torch.Tensor


def encode_prompts(pipe, prompt: str, negative_prompt: str) -> Conditioning:
    device = pipe.unet.device
    with torch.no_grad():
        positive, negative = pipe.encode_prompt(prompt, device, 1, True, negative_prompt=negative_prompt or None)
    return Conditioning(positive, negative)


def to_tensor(images: list[Image.Image], device, dtype) -> torch.Tensor:
    array = np.stack([np.asarray(im.convert("RGB"), dtype=np.float32) / 127.5 - 1.0 for im in images])
    return torch.from_numpy(array).permute(0, 3, 1, 2).to(device=device, dtype=dtype)


def to_images(decoded: torch.Tensor) -> list[Image.Image]:
    array = ((decoded.float().clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    return [Image.fromarray(a, "RGB") for a in array]


def encode_images(pipe, images: list[Image.Image]) -> torch.Tensor:
    """The clean init latents: the VAE posterior's mean (deterministic), scaled for the UNet.

    One image at a time: the VAE's activations dominate memory, so a batch of tiles costs no more
    than one."""
    vae = pipe.vae
    with torch.no_grad():
        return torch.cat([vae.encode(to_tensor([image], vae.device, vae.dtype)).latent_dist.mean
                          for image in images]) * vae.config.scaling_factor


def decode_latents(pipe, latents: torch.Tensor) -> list[Image.Image]:
    vae = pipe.vae
    with torch.no_grad():
        return [to_images(vae.decode(item[None] / vae.config.scaling_factor).sample)[0] for item in latents]


def latent_mask(mask: Image.Image, device, dtype) -> torch.Tensor:
    """A greyscale mask (255 = to be made) brought to latent size: 1 where the model is free."""
    small = mask.convert("L").resize((mask.width // 8, mask.height // 8), Image.Resampling.BILINEAR)
    array = np.asarray(small, dtype=np.float32) / 255.0
    return torch.from_numpy(array)[None, None].to(device=device, dtype=dtype)


def img2img_latents(pipe, init_latents: torch.Tensor, cond: Conditioning, steps: int, denoise: float,
                    sampler: str, cfg: float, seeds: list[int], free: torch.Tensor | None = None,
                    progress: Progress | None = None, *, schedule: str | None = None,
                    noise: rng.NoiseSource | None = None) -> tuple[torch.Tensor, int]:
    """Sample from `init_latents` (batch of len(seeds)); returns (latents, steps run as A1111 counts them).

    `sampler` is A1111's name (an old combined name such as "DPM++ 2M Karras" carries its schedule);
    `schedule` None or "Automatic" is the sampler's default; `noise` None draws from the seeds."""
    name, schedule = resolve(sampler, schedule)
    noise = noise if noise is not None else rng.ImageNoise(tuple(init_latents.shape[1:]), seeds)
    if not SAMPLERS[name].uses_sigmas:
        return _timestep_img2img(pipe, init_latents, cond, steps, denoise, name, cfg, noise, free, progress)
    denoiser = for_pipeline(pipe, cond.positive, cond.negative, cfg)
    init = init_latents.float()
    latents, run = drive.img2img(denoiser, name, schedule, steps, denoise, init, noise,
                                 None if free is None else free.float(), progress)
    return latents.to(init_latents.dtype), run


# --- DDIM, PLMS, UniPC: diffusers schedulers until atlas runs them itself -------------------------

def _noise_forms(scheduler, t) -> tuple[float, float]:
    """(a, s) with sample = a * x0 + s * eps at timestep t, for the scheduler's parametrisation."""
    if float(scheduler.init_noise_sigma) > 1.0:  # k-diffusion style: x = x0 + sigma * eps
        return 1.0, float(scheduler.sigmas[scheduler.step_index])
    alpha = float(scheduler.alphas_cumprod[int(t)])
    return alpha ** 0.5, (1.0 - alpha) ** 0.5


def hold_known(scheduler, t, sample, eps, init_latents, free):
    """Blend the model's clean estimate with the clean init latent where `free` is 0 (the known area)."""
    a, s = _noise_forms(scheduler, t)
    clean = (sample - s * eps) / a
    held = init_latents * (1 - free) + clean * free
    return (sample - a * held) / s


def _timestep_img2img(pipe, init_latents, cond, steps, denoise, sampler, cfg, noise_source, free, progress):
    scheduler = schedulers.make(pipe.scheduler.config, sampler)
    device, dtype = init_latents.device, init_latents.dtype
    scheduler.set_timesteps(steps, device=device)
    run = a1111_img2img_steps(steps, denoise)
    start = (steps - run) * scheduler.order
    timesteps = scheduler.timesteps[start:]
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start)
    noise = noise_source.first().to(device=device, dtype=dtype)
    batch = len(noise_source.seeds)
    latents = scheduler.add_noise(init_latents, noise, timesteps[:1].repeat(batch))
    context = torch.cat([cond.negative.expand(batch, -1, -1), cond.positive.expand(batch, -1, -1)])
    done = 0
    with torch.no_grad():
        for t in timesteps:
            model_input = scheduler.scale_model_input(torch.cat([latents, latents]), t)
            uncond, text = pipe.unet(model_input, t, encoder_hidden_states=context).sample.chunk(2)
            eps = uncond + cfg * (text - uncond)
            if free is not None:
                eps = hold_known(scheduler, t, latents, eps, init_latents, free)
            latents = scheduler.step(eps, t, latents).prev_sample
            done += 1
            if progress is not None:
                progress(done, len(timesteps))
    return latents, done
