"""A discrete-time eps model's noise levels as k-diffusion sees them: 1000 sigmas, and the map
between a continuous sigma and a fractional timestep (linear interpolation in log sigma)."""

import torch


def ldm_alphas_cumprod(config) -> torch.Tensor:
    """The model's cumulative alphas as the original (CompVis/ldm) code computes them, which A1111
    runs: betas in float64 from the scheduler config, the product cast to float32 at the end
    (diffusers computes them in float32, a few ulps off)."""
    n, start, end = config["num_train_timesteps"], config["beta_start"], config["beta_end"]
    kind = config.get("beta_schedule", "scaled_linear")
    if kind == "scaled_linear":
        betas = torch.linspace(start ** 0.5, end ** 0.5, n, dtype=torch.float64) ** 2
    elif kind == "linear":
        betas = torch.linspace(start, end, n, dtype=torch.float64)
    else:
        raise ValueError(f"beta schedule {kind!r} is not a discrete SD schedule atlas can sample")
    return torch.cumprod(1.0 - betas, dim=0).to(torch.float32)


class DiscreteSigmas:
    """sigma(t) = sqrt((1 - alpha_bar) / alpha_bar) for t = 0..999, float32 on the CPU."""

    def __init__(self, alphas_cumprod: torch.Tensor):
        alphas_cumprod = alphas_cumprod.to(device="cpu", dtype=torch.float32)
        self.sigmas = ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5
        self.log_sigmas = self.sigmas.log()

    @property
    def sigma_min(self) -> float:
        return self.sigmas[0].item()

    @property
    def sigma_max(self) -> float:
        return self.sigmas[-1].item()

    def sigma_to_t(self, sigma: torch.Tensor) -> torch.Tensor:
        """The fractional timestep of each sigma: between the two neighbouring log sigmas, clamped
        to [0, 999]."""
        log_sigma = sigma.log()
        log_sigmas = self.log_sigmas.to(sigma.device)
        below = torch.searchsorted(log_sigmas, log_sigma.reshape(-1), right=True) - 1
        low = below.clamp(0, len(log_sigmas) - 2).reshape(sigma.shape)
        high = low + 1
        lo, hi = log_sigmas[low], log_sigmas[high]
        w = ((lo - log_sigma) / (lo - hi)).clamp(0, 1)
        return (1 - w) * low + w * high

    def t_to_sigma(self, t: torch.Tensor) -> torch.Tensor:
        t = t.float()
        low, high, w = t.floor().long(), t.ceil().long(), t.frac()
        return ((1 - w) * self.log_sigmas[low] + w * self.log_sigmas[high]).exp()

    def uniform(self, n: int) -> torch.Tensor:
        """n sigmas at timesteps evenly spaced from 999 down to 0, then 0 (k-diffusion's get_sigmas)."""
        t = torch.linspace(len(self.sigmas) - 1, 0, n)
        return with_zero(self.t_to_sigma(t))


def with_zero(sigmas: torch.Tensor) -> torch.Tensor:
    return torch.cat([sigmas, sigmas.new_zeros([1])])
