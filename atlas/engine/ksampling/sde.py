"""k-diffusion's DPM-Solver++ SDE solvers (Lu et al. 2022; k-diffusion's 2M/3M SDE), written from
the published algorithms with k-diffusion's (0.1.1) arithmetic. Their noise comes from
`run.noise(sigma, sigma_next)`: in A1111, a Brownian tree seeded with the image seeds."""

import torch

from atlas.engine.ksampling.solvers import Run, _sigma, _t, ancestral_step, to_d


def dpmpp_sde(run: Run, x: torch.Tensor, sigmas: torch.Tensor, r: float = 1 / 2) -> torch.Tensor:
    """DPM-Solver++ (stochastic), two model calls a step: an SDE half-step to the point r of the
    way in log sigma, then the full step from a mix of both estimates."""
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.denoise(x, sigma)
        if sigma_next == 0:
            x = x + to_d(x, sigma, denoised) * (sigma_next - sigma)
        else:
            t, t_next = _t(sigma), _t(sigma_next)
            h = t_next - t
            s = t + h * r
            fac = 1 / (2 * r)
            down, up = ancestral_step(_sigma(t), _sigma(s), run.eta)
            s_down = _t(down)
            x_2 = (_sigma(s_down) / _sigma(t)) * x - (t - s_down).expm1() * denoised
            x_2 = x_2 + run.noise(_sigma(t), _sigma(s)) * up
            denoised_2 = run.denoise(x_2, _sigma(s))
            down, up = ancestral_step(_sigma(t), _sigma(t_next), run.eta)
            t_down = _t(down)
            mixed = (1 - fac) * denoised + fac * denoised_2
            x = (_sigma(t_down) / _sigma(t)) * x - (t - t_down).expm1() * mixed
            x = x + run.noise(_sigma(t), _sigma(t_next)) * up
        run.done()
    return x


def dpmpp_2m_sde(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """DPM-Solver++(2M) SDE; `run.solver_type` picks the second-order correction (midpoint or heun)."""
    if run.solver_type not in ("midpoint", "heun"):
        raise ValueError(f"solver type must be 'midpoint' or 'heun', not {run.solver_type!r}")
    previous, h_last, h = None, None, None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.denoise(x, sigma)
        if sigma_next == 0:
            x = denoised  # the last step lands on the estimate
        else:
            h = sigma.log() - sigma_next.log()
            eta_h = run.eta * h
            x = sigma_next / sigma * (-eta_h).exp() * x + (-h - eta_h).expm1().neg() * denoised
            if previous is not None:
                r = h_last / h
                if run.solver_type == "heun":
                    x = x + ((-h - eta_h).expm1().neg() / (-h - eta_h) + 1) * (1 / r) * (denoised - previous)
                else:
                    x = x + 0.5 * (-h - eta_h).expm1().neg() * (1 / r) * (denoised - previous)
            if run.eta:
                x = x + run.noise(sigma, sigma_next) * sigma_next * (-2 * eta_h).expm1().neg().sqrt()
        previous, h_last = denoised, h
        run.done()
    return x


def dpmpp_3m_sde(run: Run, x: torch.Tensor, sigmas: torch.Tensor) -> torch.Tensor:
    """DPM-Solver++(3M) SDE: third order from the two previous estimates."""
    denoised_1 = denoised_2 = h = h_1 = h_2 = None
    for i in range(len(sigmas) - 1):
        sigma, sigma_next = sigmas[i], sigmas[i + 1]
        denoised = run.denoise(x, sigma)
        if sigma_next == 0:
            x = denoised
        else:
            h = sigma.log() - sigma_next.log()
            h_eta = h * (run.eta + 1)
            x = torch.exp(-h_eta) * x + (-h_eta).expm1().neg() * denoised
            if h_2 is not None:
                r0, r1 = h_1 / h, h_2 / h
                d1_0 = (denoised - denoised_1) / r0
                d1_1 = (denoised_1 - denoised_2) / r1
                d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1)
                d2 = (d1_0 - d1_1) / (r0 + r1)
                phi_2 = h_eta.neg().expm1() / h_eta + 1
                phi_3 = phi_2 / h_eta - 0.5
                x = x + phi_2 * d1 - phi_3 * d2
            elif h_1 is not None:
                phi_2 = h_eta.neg().expm1() / h_eta + 1
                x = x + phi_2 * ((denoised - denoised_1) / (h_1 / h))
            if run.eta:
                x = x + run.noise(sigma, sigma_next) * sigma_next * (-2 * h * run.eta).expm1().neg().sqrt()
        denoised_1, denoised_2 = denoised, denoised_1
        h_1, h_2 = h, h_1
        run.done()
    return x
