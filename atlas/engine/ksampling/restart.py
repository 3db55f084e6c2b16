"""Restart sampling (Xu et al. 2023, "Restart Sampling for Improving Generative Processes") as A1111
configures it (its own sampler, not k-diffusion's).

Heun steps down the schedule; with 20 steps or more, once the walk reaches the sigma nearest 0.1 it
adds noise back up to the sigma nearest 2 and walks down again on a Karras ramp: once with 9
restart steps (20-35 steps) or twice with steps // 4 (36 and more). So that the total stays at
`steps`, the main schedule is then rebuilt as a Karras schedule of the remaining steps over the
given schedule's range. The restart noise comes from the per-image generators.
"""

from itertools import pairwise

import torch

from atlas.engine.ksampling.schedules import karras_range
from atlas.engine.ksampling.solvers import Run, heun_step


def _nearest(sigmas: torch.Tensor, value: float) -> int:
    return int(torch.argmin(abs(sigmas - value), dim=0))


def plan(sigmas: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (sigma, sigma_next) pairs of every Heun step, restarts included, in order."""
    steps = len(sigmas) - 1
    restarts: dict[int, tuple[int, int, float]] = {}
    if steps >= 20:
        restart_steps, times = (steps // 4, 2) if steps >= 36 else (9, 1)
        sigmas = karras_range(steps - restart_steps * times, sigmas[-2].item(), sigmas[0].item())
        restarts = {_nearest(sigmas, 0.1): (restart_steps + 1, times, 2.0)}
    pairs = []
    for i in range(len(sigmas) - 1):
        pairs.append((sigmas[i], sigmas[i + 1]))
        if i + 1 in restarts:
            count, times, top = restarts[i + 1]
            high = _nearest(sigmas, top)
            if high < i + 1:
                ramp = karras_range(count, sigmas[i + 1].item(), sigmas[high].item())[:-1]
                pairs += list(pairwise(ramp)) * times
    return pairs


def restart(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    reached = None
    for sigma, sigma_next in plan(sigmas):
        if reached is not None and reached < sigma:  # a restart: noise the latents back up to sigma
            x = x + run.noise(reached, sigma) * (sigma ** 2 - reached ** 2) ** 0.5
        x = heun_step(run, x, sigma, sigma_next)
        reached = sigma_next
        run.done()
    return x
