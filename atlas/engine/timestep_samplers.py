"""DDIM, PLMS and UniPC as A1111 (>= 1.6) runs them: its "timestep" samplers.

A1111 runs these three on the CompVis timestep grid rather than on a k-diffusion sigma schedule.
The grid is `t = min(i + 1, 999)` for `i = 0, s, 2s, ... < 1000` with stride `s = 1000 // steps`,
kept ascending as A1111 keeps it (DDIM, 10 steps: 1, 101, ..., 901). A stride that does not divide
1000 gives more points than steps (30 steps: stride 33, 31 points 1 ... 991); A1111 runs them all.

The samplers walk that grid from its top down, and each has a quirk we follow:
- DDIM and PLMS step from each grid point to the one below it and never step from the lowest
  point (timestep 1): they make len(grid) - 1 steps and return the latent at the noise level of
  timestep 1, not a fully denoised one. PLMS's first step is a pseudo improved Euler step (two
  model calls), the later ones Adams-Bashforth of order 2, 3, 4 on the model's eps.
- UniPC (multistep, data prediction, B(h) variant) ignores the grid's values: it makes
  len(grid) steps on its own continuous time grid from t = 1 (txt2img) down to t = 1/1000,
  spaced per `skip_type`, and the model sees the fractional timesteps (t - 1/1000) * 1000.
- img2img keeps the lowest t_enc = int(min(denoise, 0.999) * steps) grid points and noises the
  init latent to grid point t_enc (one above the kept ones): the first model call sees a latent
  noised one grid point higher than the timestep it is told. UniPC starts at t = (top kept + 1)
  / 1000, which A1111 itself comments is likely off by a bit.

txt2img starts from the unit-variance start noise as drawn (no sigma scaling, unlike the
k-diffusion samplers): a variance-preserving latent at t = 1000 is N(0, I).

With an inpainting mask, A1111 blends for these samplers (they set "mask before denoising"):
before every model call the model's input (only the input, not the sampler's own state) becomes
`x * nmask + init_latent * mask` with the clean, un-noised init latent (mask = 1 where the image is
kept); after sampling the result is blended the same way. Both happen outside the sampler, so the
caller does them: the first inside `eps_of`, the second on what `run` returns.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from atlas.core.errors import BadInput
from atlas.engine.rng import NoiseSource

NAMES = ("DDIM", "PLMS", "UniPC")
TRAIN_STEPS = 1000  # the grid and UniPC's continuous time are defined on SD's 1000 training steps

EpsFn = Callable[[torch.Tensor, float], torch.Tensor]  # (x, timestep) -> CFG-combined eps
StepFn = Callable[[int, int], None]  # (steps done, steps in all)


@dataclass(frozen=True)
class UniPCOptions:
    """A1111's UniPC settings (modules/shared_options.py); the defaults are A1111's."""

    variant: str = "bh1"  # "bh1" or "bh2": the B(h) of the UniPC paper (h or e^h - 1)
    skip_type: str = "time_uniform"  # "time_uniform", "time_quadratic" or "logSNR"
    order: int = 3
    lower_order_final: bool = True


def canonical(name: str) -> str:
    for known in NAMES:
        if known.lower() == name.strip().lower():
            return known
    raise BadInput(f"{name!r} is not a timestep sampler; those are: " + ", ".join(NAMES))


def timesteps(name: str, steps: int, discard_penultimate: bool = False) -> list[int]:
    """The grid A1111 hands sampler `name` for `steps` steps, ascending (see the module docstring).

    `discard_penultimate` is A1111's "always discard next-to-last sigma" setting (off by default,
    infotext "Discard penultimate sigma: True"): for these samplers it builds the grid for one
    step more."""
    canonical(name)
    if not 1 <= steps <= TRAIN_STEPS:
        raise BadInput(f"steps must be 1 to {TRAIN_STEPS} for a timestep sampler, not {steps}")
    stride = TRAIN_STEPS // (steps + 1 if discard_penultimate else steps)
    return [min(i + 1, TRAIN_STEPS - 1) for i in range(0, TRAIN_STEPS, stride)]


def img2img_t_enc(steps: int, denoise: float) -> int:
    """How many grid points A1111 keeps for img2img (its default, "img2img_fix_steps" off)."""
    if not 0.0 <= denoise <= 1.0:
        raise BadInput(f"denoise must be between 0 and 1, not {denoise}")
    return int(min(denoise, 0.999) * steps)


def img2img_timesteps(name: str, steps: int, denoise: float, discard_penultimate: bool = False) -> list[int]:
    """The grid A1111 samples img2img on at `denoise`: the lowest t_enc points, ascending."""
    return timesteps(name, steps, discard_penultimate)[:img2img_t_enc(steps, denoise)]


def img2img_noise_timestep(name: str, steps: int, denoise: float, discard_penultimate: bool = False) -> int:
    """The timestep A1111 noises the init latent to: the grid point just above the kept ones."""
    return timesteps(name, steps, discard_penultimate)[img2img_t_enc(steps, denoise)]


def noised_start(init: torch.Tensor, noise: torch.Tensor, timestep: int,
                 alphas_cumprod: torch.Tensor) -> torch.Tensor:
    """The img2img start latent: sqrt(a) * init + sqrt(1 - a) * noise, a = alphas_cumprod[timestep]."""
    a = alphas_cumprod[timestep].to(torch.float32)
    return init * a.sqrt().to(init) + noise.to(init) * (1 - a).sqrt().to(init)


def blend_known(x: torch.Tensor, init_latent: torch.Tensor, free: torch.Tensor) -> torch.Tensor:
    """A1111's inpainting blend for these samplers: `x` where the model is free (free = 1), the
    clean init latent where the image is kept. Apply it to the model's input inside `eps_of`
    (before every call) and to what `run` returns (once, after sampling)."""
    return x * free + init_latent * (1 - free)


def model_calls(name: str, grid_points: int) -> int:
    """How many (CFG-combined) model calls A1111 makes on a grid of `grid_points` points."""
    name = canonical(name)
    if name == "DDIM":
        return max(grid_points - 1, 0)
    if name == "PLMS":
        return grid_points if grid_points >= 2 else 0  # one extra call in the first step
    return grid_points


def reported_steps(steps: int, denoise: float | None = None) -> int:
    """The step count A1111's progress reports: `steps` for txt2img, t_enc + 1 for img2img.

    The infotext's "Steps" stays the requested `steps` in both cases."""
    return steps if denoise is None else img2img_t_enc(steps, denoise) + 1


def run(name: str, eps_of: EpsFn, x: torch.Tensor, timesteps: list[int], alphas_cumprod: torch.Tensor,
        noise: NoiseSource, eta: float = 0.0, on_step: StepFn | None = None, *, img2img: bool = False,
        unipc: UniPCOptions = UniPCOptions()) -> torch.Tensor:
    """Run sampler `name` from latent `x` over the ascending A1111 grid `timesteps`.

    `eps_of(x, t)` is the CFG-combined eps prediction; t is an integer for DDIM and PLMS and a
    fractional timestep for UniPC. `x` is the start noise (txt2img) or `noised_start(...)`
    (img2img). `noise.next()` supplies DDIM's per-step noise when eta > 0; A1111 ignores eta for
    PLMS and UniPC, so do we. `img2img` tells UniPC where to start (A1111's is_img2img)."""
    name = canonical(name)
    acp = alphas_cumprod.detach().to("cpu", torch.float64)
    grid = [int(t) for t in timesteps]
    with torch.no_grad():
        if name == "DDIM":
            return _ddim(eps_of, x, grid, acp, noise, eta, on_step)
        if name == "PLMS":
            return _plms(eps_of, x, grid, acp, on_step)
        return _unipc(eps_of, x, grid, acp, unipc, img2img, on_step)


def _clean_estimate(x, eps, a: float) -> torch.Tensor:
    """x0 from x_t = sqrt(a) x0 + sqrt(1 - a) eps."""
    return (x - math.sqrt(1.0 - a) * eps) / math.sqrt(a)


def _ddim(eps_of, x, grid, acp, noise, eta, on_step):
    """DDIM (Song et al. 2020, eq. 12) from each grid point to the next lower one."""
    total = max(len(grid) - 1, 0)
    for done, i in enumerate(range(len(grid) - 1, 0, -1), start=1):
        a, a_prev = float(acp[grid[i]]), float(acp[grid[i - 1]])
        eps = eps_of(x, grid[i])
        x0 = _clean_estimate(x, eps, a)
        sigma = eta * math.sqrt((1.0 - a_prev) / (1.0 - a) * (1.0 - a / a_prev))
        x = math.sqrt(a_prev) * x0 + math.sqrt(1.0 - a_prev - sigma ** 2) * eps
        if sigma > 0:  # A1111 draws every step; with eta = 0 the draw is multiplied by 0
            x = x + sigma * noise.next().to(x)
        if on_step is not None:
            on_step(done, total)
    return x


def _plms(eps_of, x, grid, acp, on_step):
    """PLMS (Liu et al. 2022, "pseudo numerical methods"), as CompVis runs it on eps."""
    def step(x, eps, i):  # the deterministic DDIM transfer from grid[i] to grid[i - 1]
        a, a_prev = float(acp[grid[i]]), float(acp[grid[i - 1]])
        return math.sqrt(a_prev) * _clean_estimate(x, eps, a) + math.sqrt(1.0 - a_prev) * eps

    history: list[torch.Tensor] = []
    total = max(len(grid) - 1, 0)
    for done, i in enumerate(range(len(grid) - 1, 0, -1), start=1):
        eps = eps_of(x, grid[i])
        if not history:  # pseudo improved Euler: average with eps at the Euler step's end
            combined = (eps + eps_of(step(x, eps, i), grid[i - 1])) / 2
        elif len(history) == 1:
            combined = (3 * eps - history[-1]) / 2
        elif len(history) == 2:
            combined = (23 * eps - 16 * history[-1] + 5 * history[-2]) / 12
        else:
            combined = (55 * eps - 59 * history[-1] + 37 * history[-2] - 9 * history[-3]) / 24
        x = step(x, combined, i)
        history = (history + [eps])[-3:]
        if on_step is not None:
            on_step(done, total)
    return x


class _VPTime:
    """SD's discrete schedule as a continuous time t in (0, 1]: log alpha_t is piecewise linear
    between the knots t = (n + 1) / 1000, where it is 0.5 * log(alphas_cumprod[n]). The model is
    told the timestep (t - 1/1000) * 1000, so the knots fall on the integer timesteps."""

    def __init__(self, acp: torch.Tensor):
        self.n = len(acp)
        self.knots = np.arange(1, self.n + 1, dtype=np.float64) / self.n
        self.log_alphas = 0.5 * np.log(acp.numpy())

    def log_alpha(self, t: float) -> float:
        return float(np.interp(t, self.knots, self.log_alphas))

    def alpha(self, t: float) -> float:
        return math.exp(self.log_alpha(t))

    def sigma(self, t: float) -> float:
        return math.sqrt(1.0 - math.exp(2.0 * self.log_alpha(t)))

    def lam(self, t: float) -> float:  # half log-SNR: log alpha - log sigma
        return self.log_alpha(t) - 0.5 * math.log(1.0 - math.exp(2.0 * self.log_alpha(t)))

    def t_of_lambda(self, lam: float) -> float:
        log_alpha = -0.5 * np.logaddexp(0.0, -2.0 * lam)
        return float(np.interp(log_alpha, self.log_alphas[::-1], self.knots[::-1]))

    def model_time(self, t: float) -> float:
        return (t - 1.0 / self.n) * self.n

    def grid(self, skip_type: str, t_top: float, t_end: float, steps: int) -> list[float]:
        if skip_type == "time_uniform":
            return np.linspace(t_top, t_end, steps + 1).tolist()
        if skip_type == "time_quadratic":
            return (np.linspace(math.sqrt(t_top), math.sqrt(t_end), steps + 1) ** 2).tolist()
        if skip_type == "logSNR":
            lams = np.linspace(self.lam(t_top), self.lam(t_end), steps + 1)
            return [self.t_of_lambda(v) for v in lams]
        raise BadInput(f"unknown UniPC skip type {skip_type!r}: time_uniform, time_quadratic or logSNR")


def _unipc(eps_of, x, grid, acp, options: UniPCOptions, img2img, on_step):
    """UniPC (Zhao et al. 2023), multistep, data prediction, with A1111's settings: `order`
    steps of warm-up at rising order, the corrector on every step but the last, and with
    lower_order_final the order falling to fit the steps left."""
    if options.variant not in ("bh1", "bh2"):
        raise BadInput(f"unknown UniPC variant {options.variant!r}: bh1 or bh2")
    order, steps = options.order, len(grid)
    if not 1 <= order <= steps:
        raise BadInput(f"UniPC order {order} needs at least {order} steps, got {steps}")
    vp = _VPTime(acp)
    # A1111 quirk: img2img starts at the top kept grid point + 1/1000, not at the noised level.
    t_top = (grid[-1] + 1) / vp.n if img2img else 1.0
    times = vp.grid(options.skip_type, t_top, 1.0 / vp.n, steps)

    def data(x, t):
        eps = eps_of(x, vp.model_time(t))
        return (x - vp.sigma(t) * eps) / vp.alpha(t)

    past = [(times[0], data(x, times[0]))]  # (time, data prediction), newest last
    for k in range(1, steps + 1):
        room = steps + 1 - k if options.lower_order_final else order  # order falls to the steps left
        step_order = k if k < order else min(order, room)  # order rises during warm-up
        x, model_t = _unipc_step(vp, x, past[-step_order:], times[k], options.variant,
                                 corrector=k < steps, data=data)
        if k < steps:
            past = (past + [(times[k], model_t)])[-order:]
        if on_step is not None:
            on_step(k, steps)
    return x


def _unipc_step(vp: _VPTime, x, past, t, variant, corrector, data):
    """One UniPC-p predictor (and UniC corrector) step from past[-1]'s time to t, order len(past)."""
    p = len(past)
    t0, m0 = past[-1]
    h = vp.lam(t) - vp.lam(t0)
    ratios = [(vp.lam(ti) - vp.lam(t0)) / h for ti, _ in reversed(past[:-1])]  # r_1 ... r_{p-1}
    diffs = [(mi - m0) / r for (_, mi), r in zip(reversed(past[:-1]), ratios, strict=True)]
    hh = -h  # data prediction integrates in -h
    h_phi_1 = math.expm1(hh)
    b_h = hh if variant == "bh1" else math.expm1(hh)
    # b_i = i! * hh * phi_{i+1}(hh) / B(h), with hh * phi_{k+1}(hh) = hh * phi_k(hh) / hh - 1/k!
    rows, rhs = [], []
    phi, fact = h_phi_1 / hh - 1.0, 1.0
    nodes = np.array(ratios + [1.0])
    for i in range(1, p + 1):
        rows.append(nodes ** (i - 1))
        rhs.append(phi * fact / b_h)
        fact *= i + 1
        phi = phi / hh - 1.0 / fact
    r_mat, b_vec = np.array(rows), np.array(rhs)

    alpha_t = vp.alpha(t)
    base = (vp.sigma(t) / vp.sigma(t0)) * x - (alpha_t * h_phi_1) * m0
    if p >= 2:
        rhos_p = [0.5] if p == 2 else np.linalg.solve(r_mat[:-1, :-1], b_vec[:-1]).tolist()
        x_pred = base - (alpha_t * b_h) * sum(float(c) * d for c, d in zip(rhos_p, diffs, strict=True))
    else:
        x_pred = base
    if not corrector:
        return x_pred, None
    model_t = data(x_pred, t)
    rhos_c = [0.5] if p == 1 else np.linalg.solve(r_mat, b_vec).tolist()
    correction = float(rhos_c[-1]) * (model_t - m0)
    for c, d in zip(rhos_c[:-1], diffs, strict=True):
        correction = correction + float(c) * d
    return base - (alpha_t * b_h) * correction, model_t
