"""How A1111 (>= 1.9) drives a k-diffusion sampler: which sigmas, how the start latents are scaled,
where every noise draw comes from, and how many steps it counts.

txt2img: the sampler's `steps` sigmas; the start is the first noise times the first sigma.
img2img: the same `steps`-sigma schedule, entered at index steps - t_enc - 1 with
t_enc = int(min(denoise, 0.999) * steps), so t_enc + 1 steps run; the start is the clean latent
plus the first noise times that entry sigma. Ancestral and restart noise comes from the image
generators (`NoiseSource.next`), SDE noise from Brownian trees seeded with the image seeds and
spanning the whole schedule. With a mask, the final latents are blended with the clean init latent
once more after sampling, as A1111 does.
"""

from collections.abc import Callable

import torch

from atlas.core.record.samplers import SAMPLERS
from atlas.engine.ksampling import restart, schedules, sde, solvers
from atlas.engine.ksampling.brownian import BrownianNoise
from atlas.engine.ksampling.denoiser import Denoiser, hold
from atlas.engine.rng import NoiseSource

Progress = Callable[[int, int], None]  # (steps done, steps in all)

ALGORITHMS = {
    "euler": solvers.euler, "euler_ancestral": solvers.euler_ancestral, "heun": solvers.heun,
    "dpm_2": solvers.dpm_2, "dpm_2_ancestral": solvers.dpm_2_ancestral, "lms": solvers.lms,
    "dpmpp_2s_ancestral": solvers.dpmpp_2s_ancestral, "dpmpp_2m": solvers.dpmpp_2m,
    "dpmpp_sde": sde.dpmpp_sde, "dpmpp_2m_sde": sde.dpmpp_2m_sde, "dpmpp_3m_sde": sde.dpmpp_3m_sde,
    "restart": restart.restart,
}


def schedule_sigmas(sampler: str, schedule: str, steps: int, denoiser: Denoiser) -> torch.Tensor:
    """The whole schedule A1111 computes for `steps` steps of `sampler` (schedule already resolved)."""
    return schedules.sigmas(schedule, steps, denoiser.model, SAMPLERS[sampler].discard_next_to_last_sigma)


def img2img_entry(steps: int, denoise: float) -> int:
    """The index into the `steps`-step schedule where A1111's img2img starts."""
    t_enc = int(min(denoise, 0.999) * steps)
    return steps - t_enc - 1


def txt2img(denoiser: Denoiser, sampler: str, schedule: str, steps: int, noise: NoiseSource,
            progress: Progress | None = None, device=None) -> tuple[torch.Tensor, int]:
    """(latents, steps run) from pure noise."""
    sigmas = schedule_sigmas(sampler, schedule, steps, denoiser)
    x = noise.first().to(device) * sigmas[0].to(device)
    return solve(denoiser, sampler, x, sigmas, sigmas, noise, progress)


def img2img(denoiser: Denoiser, sampler: str, schedule: str, steps: int, denoise: float, init: torch.Tensor,
            noise: NoiseSource, free: torch.Tensor | None = None,
            progress: Progress | None = None) -> tuple[torch.Tensor, int]:
    """(latents, steps run) from the clean latents `init`; where `free` is 0 the image is held."""
    full = schedule_sigmas(sampler, schedule, steps, denoiser)
    tail = full[img2img_entry(steps, denoise):]
    x = init + noise.first().to(init.device) * tail[0].to(init.device)
    denoiser.init, denoiser.free = init, free
    latents, run = solve(denoiser, sampler, x, tail, full, noise, progress)
    return hold(latents, init, free), run


def solve(denoiser: Denoiser, sampler: str, x: torch.Tensor, sigmas: torch.Tensor, full: torch.Tensor,
          noise: NoiseSource, progress: Progress | None) -> tuple[torch.Tensor, int]:
    spec = SAMPLERS[sampler]
    sigmas = sigmas.to(x.device)
    if spec.brownian_noise:
        draw = BrownianNoise(tuple(x.shape[1:]), full.to(x.device), noise.seeds, x.dtype, x.device)
    else:
        def draw(_sigma, _sigma_next):
            return noise.next().to(device=x.device, dtype=x.dtype)
    total = len(restart.plan(sigmas)) if spec.algorithm == "restart" else len(sigmas) - 1
    done = [0]

    def on_step():
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    run = solvers.Run(denoiser, draw, spec.eta if spec.eta is not None else 1.0,
                      spec.solver_type or "midpoint", on_step)
    with torch.no_grad():
        latents = ALGORITHMS[spec.algorithm](run, x, sigmas)
    return latents, done[0]
