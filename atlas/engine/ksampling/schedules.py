"""A1111's schedule types (modules/sd_schedulers.py, A1111 >= 1.9): the sigmas a sampler steps through.

Each takes the number of sigmas wanted before the closing one and the model's noise levels, and
returns float32 sigmas on the CPU, highest first. Like A1111 (whose "sigma min/max" options
default to 0), the range is the model's own: sigma_min and sigma_max of its 1000 sigmas.
"""

import math

import numpy as np
import torch
from scipy import stats

from atlas.engine.ksampling.discrete import DiscreteSigmas, with_zero

# NVIDIA's Align Your Steps sigmas for SD 1.x (10 steps), as A1111 lists them.
AYS_SD1 = (14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029)
# A1111's defaults for the Beta schedule's distribution ("Beta schedule alpha/beta" options).
BETA_ALPHA = 0.6
BETA_BETA = 0.6


def uniform(n: int, model: DiscreteSigmas) -> torch.Tensor:
    return model.uniform(n)


def karras(n: int, model: DiscreteSigmas) -> torch.Tensor:
    return karras_range(n, model.sigma_min, model.sigma_max)


def karras_range(n: int, sigma_min: float, sigma_max: float, rho: float = 7.0) -> torch.Tensor:
    """Karras et al. (2022): evenly spaced in sigma^(1/rho), then 0."""
    ramp = torch.linspace(0, 1, n)
    lo, hi = sigma_min ** (1 / rho), sigma_max ** (1 / rho)
    return with_zero((hi + ramp * (lo - hi)) ** rho)


def exponential(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """Evenly spaced in log sigma."""
    return with_zero(torch.linspace(math.log(model.sigma_max), math.log(model.sigma_min), n).exp())


def polyexponential(n: int, model: DiscreteSigmas, rho: float = 1.0) -> torch.Tensor:
    """A polynomial of degree rho in log sigma (rho 1, A1111's default, is Exponential's formula)."""
    ramp = torch.linspace(1, 0, n) ** rho
    log_min, log_max = math.log(model.sigma_min), math.log(model.sigma_max)
    return with_zero(torch.exp(ramp * (log_max - log_min) + log_min))


def sgm_uniform(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """n + 1 timesteps evenly spaced from sigma_max's to sigma_min's, the last one left out."""
    t = _timesteps(model, n + 1)[:-1]
    return with_zero(model.t_to_sigma(t))


def normal(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """n timesteps evenly spaced from sigma_max's to sigma_min's (with the model's range: Uniform)."""
    return with_zero(model.t_to_sigma(_timesteps(model, n)))


def _timesteps(model: DiscreteSigmas, count: int) -> torch.Tensor:
    start = model.sigma_to_t(torch.tensor(model.sigma_max))
    end = model.sigma_to_t(torch.tensor(model.sigma_min))
    return torch.linspace(start.item(), end.item(), count)


def kl_optimal(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """Evenly spaced in arctan(sigma). A1111 quirk followed: n + 1 values ending at sigma_min, no 0."""
    alpha_min = torch.arctan(torch.tensor(model.sigma_min))
    alpha_max = torch.arctan(torch.tensor(model.sigma_max))
    fraction = torch.arange(n + 1) / n
    return torch.tan(fraction * alpha_min + (1.0 - fraction) * alpha_max)


def align_your_steps(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """NVIDIA's SD 1.x sigmas; for another count, interpolated linearly in log sigma."""
    if n == len(AYS_SD1):
        return torch.tensor([*AYS_SD1, 0.0], dtype=torch.float32)
    log_reversed = np.log(np.array(AYS_SD1[::-1], dtype=np.float64))
    wanted = np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(AYS_SD1)), log_reversed)
    return torch.tensor(np.append(np.exp(wanted)[::-1], 0.0), dtype=torch.float32)


def simple(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """Every (1000 / n)th of the model's sigmas, from the top."""
    stride = len(model.sigmas) / n
    picked = [model.sigmas[-(1 + int(i * stride))].item() for i in range(n)]
    return torch.tensor([*picked, 0.0], dtype=torch.float32)


def ddim(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """The model's sigmas at timesteps 1, 1 + s, 1 + 2s, ... (s = 1000 // n), from the top. A1111 quirk
    followed: that can be more than n sigmas (n = 6 gives 7)."""
    stride = max(len(model.sigmas) // n, 1)
    picked = [model.sigmas[i].item() for i in range(1, len(model.sigmas), stride)]
    return torch.tensor([*picked[::-1], 0.0], dtype=torch.float32)


def beta(n: int, model: DiscreteSigmas) -> torch.Tensor:
    """Lee et al. (2024): sigmas at the quantiles of a Beta(0.6, 0.6) distribution, linear in sigma."""
    quantiles = [stats.beta.ppf(x, BETA_ALPHA, BETA_BETA) for x in 1 - np.linspace(0, 1, n)]
    lo, hi = model.sigma_min, model.sigma_max
    return torch.tensor([*(lo + q * (hi - lo) for q in quantiles), 0.0], dtype=torch.float32)


SCHEDULES = {
    "Uniform": uniform, "Karras": karras, "Exponential": exponential, "Polyexponential": polyexponential,
    "SGM Uniform": sgm_uniform, "KL Optimal": kl_optimal, "Align Your Steps": align_your_steps,
    "Simple": simple, "Normal": normal, "DDIM": ddim, "Beta": beta,
}


def sigmas(schedule: str, steps: int, model: DiscreteSigmas, discard_next_to_last: bool = False) -> torch.Tensor:
    """The sigmas for `steps` steps of `schedule` (A1111's label, already resolved from Automatic).

    A sampler flagged discard_next_to_last_sigma (DPM2, DPM2 a, DPM++ 3M SDE) asks for one step
    more and drops the penultimate sigma, as A1111 does."""
    found = SCHEDULES[schedule](steps + 1 if discard_next_to_last else steps, model)
    if discard_next_to_last:
        found = torch.cat([found[:-2], found[-1:]])
    return found
