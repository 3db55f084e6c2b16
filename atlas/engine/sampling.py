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
from atlas.engine import rng, timestep_drive
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
    if not SAMPLERS[name].uses_sigmas:  # DDIM, PLMS, UniPC
        init = init_latents.float()
        latents, run = timestep_drive.img2img(pipe, cond.positive, cond.negative, cfg, name, steps, denoise, init,
                                              noise, None if free is None else free.float(), progress)
        return latents.to(init_latents.dtype), run
    denoiser = for_pipeline(pipe, cond.positive, cond.negative, cfg)
    init = init_latents.float()
    latents, run = drive.img2img(denoiser, name, schedule, steps, denoise, init, noise,
                                 None if free is None else free.float(), progress)
    return latents.to(init_latents.dtype), run
