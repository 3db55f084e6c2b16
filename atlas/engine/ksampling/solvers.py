"""k-diffusion's ODE and ancestral solvers (Karras et al. 2022; Lu et al., DPM-Solver/DPM-Solver++),
written from the published algorithms with k-diffusion's (0.1.1) arithmetic, step for step.

Every solver takes a `Run` (the denoiser, the noise for stochastic steps, eta), the start latents
and the sigmas, highest first, and walks them down; it reports each finished step to `run.done`.
An ancestral step draws its noise from `run.noise(sigma, sigma_next)` exactly where k-diffusion
draws it (A1111 routes those draws to its per-image generators).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

Noise = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Run:
    model: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]  # D(x, sigma per image) -> denoised
    noise: Noise | None = None
    eta: float = 1.0
    solver_type: str = "midpoint"  # DPM++ 2M SDE's correction: "midpoint" or "heun"
    on_step: Callable[[], None] | None = None

    def denoise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        return self.model(x, sigma * x.new_ones([x.shape[0]]))

    def done(self) -> None:
        if self.on_step is not None:
            self.on_step()


def to_d(x: torch.Tensor, sigma: torch.Tensor, denoised: torch.Tensor) -> torch.Tensor:
    """The probability-flow ODE's derivative dx/dsigma."""
    return (x - denoised) / sigma


def ancestral_step(sigma: torch.Tensor, sigma_next: torch.Tensor, eta: float):
    """(sigma_down, sigma_up): step deterministically to sigma_down, then add noise of sigma_up so
    that the result has noise level sigma_next."""
    if not eta:
        return sigma_next, 0.0
    up = min(sigma_next, eta * (sigma_next ** 2 * (sigma ** 2 - sigma_next ** 2) / sigma ** 2) ** 0.5)
    return (sigma_next ** 2 - up ** 2) ** 0.5, up


def _t(sigma: torch.Tensor) -> torch.Tensor:  # DPM-Solver's time: -log sigma
    return sigma.log().neg()


def _sigma(t: torch.Tensor) -> torch.Tensor:
    return t.neg().exp()


def euler(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    for i in range(len(sigmas) - 1):
        sigma = sigmas[i]
        d = to_d(x, sigma, run.denoise(x, sigma))
        x = x + d * (sigmas[i + 1] - sigma)
        run.done()
    return x


def euler_ancestral(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.denoise(x, sigma)
        down, up = ancestral_step(sigma, sigma_next, run.eta)
        x = x + to_d(x, sigma, denoised) * (down - sigma)
        if sigma_next > 0:
            x = x + run.noise(sigma, sigma_next) * up
        run.done()
    return x


def heun(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    for i in range(len(sigmas) - 1):
        x = heun_step(run, x, sigmas[i], sigmas[i + 1])
        run.done()
    return x


def heun_step(run: Run, x: torch.Tensor, sigma: torch.Tensor, sigma_next: torch.Tensor) -> torch.Tensor:
    """One Heun (trapezoidal) step; an Euler step when it ends at sigma 0."""
    d = to_d(x, sigma, run.denoise(x, sigma))
    dt = sigma_next - sigma
    if sigma_next == 0:
        return x + d * dt
    x_2 = x + d * dt
    d_2 = to_d(x_2, sigma_next, run.denoise(x_2, sigma_next))
    return x + (d + d_2) / 2 * dt


def dpm_2(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        d = to_d(x, sigma, run.denoise(x, sigma))
        x = x + d * (sigma_next - sigma) if sigma_next == 0 else _dpm_2_midpoint(run, x, d, sigma, sigma_next)
        run.done()
    return x


def _dpm_2_midpoint(run: Run, x, d, sigma, target):
    """DPM-Solver-2: the derivative taken at the log-midpoint of sigma and target."""
    mid = sigma.log().lerp(target.log(), 0.5).exp()
    x_2 = x + d * (mid - sigma)
    d_2 = to_d(x_2, mid, run.denoise(x_2, mid))
    return x + d_2 * (target - sigma)


def dpm_2_ancestral(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.denoise(x, sigma)
        down, up = ancestral_step(sigma, sigma_next, run.eta)
        d = to_d(x, sigma, denoised)
        if down == 0:
            x = x + d * (down - sigma)
        else:
            x = _dpm_2_midpoint(run, x, d, sigma, down)
            x = x + run.noise(sigma, sigma_next) * up
        run.done()
    return x


def lms_coefficient(order: int, t: np.ndarray, i: int, j: int) -> float:
    """The integral from t[i] to t[i+1] of the Lagrange basis polynomial of node t[i-j] over the nodes
    t[i], ..., t[i-order+1]: the weight of the j-th latest derivative in a linear multistep step.
    Integrated exactly, in float64 (as k-diffusion's quadrature does with NumPy 1.x, which A1111 pins)."""
    nodes = [float(t[i - k]) for k in range(order)]
    basis = np.polynomial.Polynomial([1.0])
    for k, node in enumerate(nodes):
        if k != j:
            basis = basis * np.polynomial.Polynomial([-node, 1.0]) / (nodes[j] - node)
    antiderivative = basis.integ()
    return float(antiderivative(float(t[i + 1])) - antiderivative(float(t[i])))


def lms(run: Run, x: torch.Tensor, sigmas: torch.Tensor, order: int = 4) -> torch.Tensor:
    """Linear multistep in sigma. The order grows from 1 with the steps taken in this run: an img2img
    run starts at order 1 whatever its place in the full schedule."""
    nodes = sigmas.detach().cpu().numpy()
    ds: list[torch.Tensor] = []
    for i in range(len(sigmas) - 1):
        ds = [*ds, to_d(x, sigmas[i], run.denoise(x, sigmas[i]))][-order:]
        current = min(i + 1, order)
        coefficients = [lms_coefficient(current, nodes, i, j) for j in range(current)]
        x = x + sum(c * d for c, d in zip(coefficients, reversed(ds), strict=True))
        run.done()
    return x


def dpmpp_2s_ancestral(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """DPM-Solver++(2S) with ancestral noise."""
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.denoise(x, sigma)
        down, up = ancestral_step(sigma, sigma_next, run.eta)
        if down == 0:
            x = x + to_d(x, sigma, denoised) * (down - sigma)
        else:
            t, t_next = _t(sigma), _t(down)
            h = t_next - t
            s = t + 0.5 * h
            x_2 = (_sigma(s) / _sigma(t)) * x - (-h * 0.5).expm1() * denoised
            denoised_2 = run.denoise(x_2, _sigma(s))
            x = (_sigma(t_next) / _sigma(t)) * x - (-h).expm1() * denoised_2
        if sigma_next > 0:
            x = x + run.noise(sigma, sigma_next) * up
        run.done()
    return x


def dpmpp_2m(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """DPM-Solver++(2M): second order from the previous step's estimate (first order at the ends)."""
    previous = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.denoise(x, sigma)
        t, t_next = _t(sigma), _t(sigma_next)
        h = t_next - t
        if previous is None or sigma_next == 0:
            estimate = denoised
        else:
            r = (t - _t(sigmas[i - 1])) / h
            estimate = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * previous
        x = (_sigma(t_next) / _sigma(t)) * x - (-h).expm1() * estimate
        previous = denoised
        run.done()
    return x
