"""The img2img sampling loop shared by img2img, outpainting and SD-upscale tiles.

Written out (rather than calling a diffusers img2img pipeline) for three reasons: A1111's step
count (`int(min(strength, 0.999) * steps) + 1` steps of a `steps`-step schedule), holding a known
area by blending the model's clean estimate with the clean init latent at every step (outpainting),
and one generator per batch item so a tile's result does not depend on the batch it ran in.
"""

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from atlas.core.settings import a1111_img2img_steps
from atlas.engine import schedulers

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


def img2img_latents(pipe, init_latents: torch.Tensor, cond: Conditioning, steps: int, denoise: float,
                    sampler: str, cfg: float, seeds: list[int], free: torch.Tensor | None = None,
                    progress: Progress | None = None) -> tuple[torch.Tensor, int]:
    """Sample from `init_latents` (batch of len(seeds)); returns (latents, steps run)."""
    scheduler = schedulers.make(pipe.scheduler.config, sampler)
    device, dtype = init_latents.device, init_latents.dtype
    scheduler.set_timesteps(steps, device=device)
    run = a1111_img2img_steps(steps, denoise)
    start = (steps - run) * scheduler.order
    timesteps = scheduler.timesteps[start:]
    if hasattr(scheduler, "set_begin_index"):
        scheduler.set_begin_index(start)
    # Noise drawn per item on the CPU: a seed gives the same tile whatever the batch or device.
    generators = [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
    noise = torch.cat([torch.randn((1, *init_latents.shape[1:]), generator=g) for g in generators])
    noise = noise.to(device=device, dtype=dtype)
    latents = scheduler.add_noise(init_latents, noise, timesteps[:1].repeat(len(seeds)))
    batch = len(seeds)
    context = torch.cat([cond.negative.expand(batch, -1, -1), cond.positive.expand(batch, -1, -1)])
    # Ancestral/SDE samplers draw fresh noise each step: from each item's own generator.
    takes_generator = "generator" in inspect.signature(scheduler.step).parameters
    step_options = {"generator": generators if batch > 1 else generators[0]} if takes_generator else {}
    done = 0
    with torch.no_grad():
        for t in timesteps:
            model_input = scheduler.scale_model_input(torch.cat([latents, latents]), t)
            uncond, text = pipe.unet(model_input, t, encoder_hidden_states=context).sample.chunk(2)
            eps = uncond + cfg * (text - uncond)
            if free is not None:
                eps = hold_known(scheduler, t, latents, eps, init_latents, free)
            latents = scheduler.step(eps, t, latents, **step_options).prev_sample
            done += 1
            if progress is not None:
                progress(done, len(timesteps))
    # Second-order samplers evaluate twice per step: report steps as A1111 counts them.
    return latents, (done if scheduler.order == 1 else run)
