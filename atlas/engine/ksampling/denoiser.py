"""The model as the samplers see it: a noisy latent and its sigma in, the clean estimate out.

The UNet predicts the noise (eps) or v of a discrete-time model; k-diffusion's CompVis wrappers
turn that into a denoiser D(x, sigma): the input scaled by c_in = 1 / sqrt(sigma^2 + 1), the sigma
given to the UNet as a fractional timestep. Around it A1111's CFG denoiser: one UNet call on the
conditional and unconditional halves (conditional first), guidance on the denoised estimates, and
for inpainting the estimate replaced by the clean init latent where the mask holds the image.
"""

from dataclasses import dataclass

import torch

from atlas.engine.ksampling.discrete import DiscreteSigmas, ldm_alphas_cumprod

SIGMA_DATA = 1.0  # k-diffusion's data standard deviation for these wrappers


def _dims(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.reshape(v.shape + (1,) * (like.ndim - v.ndim))


@dataclass
class Denoiser:
    unet: object  # a diffusers UNet2DConditionModel
    model: DiscreteSigmas
    positive: torch.Tensor  # text embeddings, batch 1 (or one per image)
    negative: torch.Tensor
    cfg: float
    v_prediction: bool = False
    init: torch.Tensor | None = None  # the clean init latent (inpainting)
    free: torch.Tensor | None = None  # 1 where the model may change the image, 0 where it is held

    def eval_model(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """k-diffusion's CompVisDenoiser (or CompVisVDenoiser) on a batch whose first half sees the
        prompt and second half the negative prompt."""
        sigma = sigma.to(x.dtype)
        scale = 1 / (sigma ** 2 + SIGMA_DATA ** 2) ** 0.5
        t = self.model.sigma_to_t(sigma.cpu()).to(x.device)
        context = torch.cat([self.positive.expand(len(x) // 2, -1, -1),
                             self.negative.expand(len(x) // 2, -1, -1)])
        dtype = self.unet.dtype
        # The timestep stays float32: in half precision 999.25 would round to 999.
        out = self.unet((x * _dims(scale, x)).to(dtype), t, encoder_hidden_states=context.to(dtype)).sample.to(x.dtype)
        if self.v_prediction:
            skip = SIGMA_DATA ** 2 / (sigma ** 2 + SIGMA_DATA ** 2)
            c_out = -sigma * SIGMA_DATA / (sigma ** 2 + SIGMA_DATA ** 2) ** 0.5
            return out * _dims(c_out, x) + x * _dims(skip, x)
        return x + out * _dims(-sigma, x)

    def __call__(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """The guided clean estimate for latents `x` (batch B) at noise level `sigma` (shape B)."""
        both = self.eval_model(torch.cat([x, x]), torch.cat([sigma, sigma]))
        cond, uncond = both.chunk(2)
        denoised = uncond + (cond - uncond) * self.cfg
        return hold(denoised, self.init, self.free)


def hold(latents: torch.Tensor, init: torch.Tensor | None, free: torch.Tensor | None) -> torch.Tensor:
    """A1111's inpainting blend: `latents` where free is 1, the clean init latent where it is 0."""
    if free is None or init is None:
        return latents
    return latents * free + init * (1 - free)


def for_pipeline(pipe, positive: torch.Tensor, negative: torch.Tensor, cfg: float) -> Denoiser:
    """The denoiser of a diffusers SD pipeline's UNet, with the noise levels of its scheduler config."""
    config = pipe.scheduler.config
    try:
        alphas = ldm_alphas_cumprod(config)
    except ValueError:  # a beta schedule ldm does not compute: diffusers' own values
        alphas = pipe.scheduler.alphas_cumprod
    return Denoiser(pipe.unet, DiscreteSigmas(alphas), positive, negative, cfg,
                    v_prediction=config.get("prediction_type") == "v_prediction")
