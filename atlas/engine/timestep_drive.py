"""How A1111 drives its timestep samplers (DDIM, PLMS, UniPC: `timestep_samplers`) on a pipeline.

The model call is the UNet's noise prediction at a timestep with CFG on the two predictions (no
input scaling: these samplers work on the discrete model directly). txt2img starts from the first
noise as drawn; img2img from the clean latent noised to the grid point above the first one run.
With a mask, A1111 blends the clean init latent into the model's *input* before every call, and
into the result once after sampling.
"""

import torch

from atlas.core.record.samplers import SAMPLERS
from atlas.engine import timestep_samplers as ts
from atlas.engine.ksampling.discrete import ldm_alphas_cumprod
from atlas.engine.rng import NoiseSource


def eps_function(pipe, positive: torch.Tensor, negative: torch.Tensor, cfg: float,
                 init: torch.Tensor | None = None, free: torch.Tensor | None = None):
    unet = pipe.unet

    def eps_of(x: torch.Tensor, t) -> torch.Tensor:
        x_in = ts.blend_known(x, init, free) if free is not None and init is not None else x
        batch = len(x)
        context = torch.cat([positive.expand(batch, -1, -1), negative.expand(batch, -1, -1)]).to(unet.dtype)
        # float32 timesteps: UniPC's are fractional (899.1), and half precision would round them.
        timestep = torch.full((2 * batch,), float(t), dtype=torch.float32, device=x.device)
        with torch.no_grad():
            out = unet(torch.cat([x_in, x_in]).to(unet.dtype), timestep, encoder_hidden_states=context).sample
        cond, uncond = out.to(x.dtype).chunk(2)
        return uncond + (cond - uncond) * cfg

    return eps_of


def _options(name: str) -> tuple[float, bool]:
    spec = SAMPLERS[name]
    return (spec.eta or 0.0) if name == "DDIM" else 0.0, spec.discard_next_to_last_sigma


def txt2img(pipe, positive, negative, cfg: float, name: str, steps: int, noise: NoiseSource,
            progress=None) -> tuple[torch.Tensor, int]:
    eta, discard = _options(name)
    alphas = ldm_alphas_cumprod(pipe.scheduler.config)
    x = noise.first().to(device=pipe.unet.device, dtype=torch.float32)
    grid = ts.timesteps(name, steps, discard)
    latents = ts.run(name, eps_function(pipe, positive, negative, cfg), x, grid, alphas, noise, eta, progress)
    return latents, ts.reported_steps(steps)


def img2img(pipe, positive, negative, cfg: float, name: str, steps: int, denoise: float, init: torch.Tensor,
            noise: NoiseSource, free: torch.Tensor | None = None, progress=None) -> tuple[torch.Tensor, int]:
    eta, discard = _options(name)
    alphas = ldm_alphas_cumprod(pipe.scheduler.config)
    start = ts.img2img_noise_timestep(name, steps, denoise, discard)
    x = ts.noised_start(init, noise.first().to(init.device), start, alphas)
    grid = ts.img2img_timesteps(name, steps, denoise, discard)
    eps_of = eps_function(pipe, positive, negative, cfg, init, free)
    latents = ts.run(name, eps_of, x, grid, alphas, noise, eta, progress, img2img=True)
    if free is not None:
        latents = ts.blend_known(latents, init, free)
    return latents, ts.reported_steps(steps, denoise)
