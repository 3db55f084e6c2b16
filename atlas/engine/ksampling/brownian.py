"""The SDE samplers' noise: a Brownian motion over sigma, one torchsde Brownian tree per image seed.

A1111 builds it over the whole schedule's range (its smallest non-zero sigma to its largest, the
full schedule's even for img2img) and seeds each image's tree with that image's seed, so an image
gets the same noise whatever batch it is in. The noise for a step from sigma to sigma_next is the
tree's increment over that interval divided by the square root of its length: a unit normal.
"""

import warnings

import torch
import torchsde


class BrownianNoise:
    def __init__(self, shape: tuple[int, ...], sigmas: torch.Tensor, seeds: list[int],
                 dtype=torch.float32, device="cpu"):
        positive = sigmas[sigmas > 0]
        low, high = positive.min(), sigmas.max()
        w0 = torch.zeros(shape, dtype=dtype, device=device)
        self.trees = [torchsde.BrownianTree(float(low), w0, float(high), entropy=seed) for seed in seeds]

    def __call__(self, sigma: torch.Tensor, sigma_next: torch.Tensor) -> torch.Tensor:
        sigma, sigma_next = torch.as_tensor(sigma), torch.as_tensor(sigma_next)
        ordered = sigma < sigma_next
        a, b = (sigma, sigma_next) if ordered else (sigma_next, sigma)
        # torchsde gives W(b) - W(a) for a < b; a step down in sigma walks the interval backwards.
        with warnings.catch_warnings():
            # exp(-(-log sigma)) can land an ulp outside the tree's range; torchsde clamps it, and says so.
            warnings.filterwarnings("ignore", message="Should have t", category=UserWarning)
            w = torch.stack([tree(float(a), float(b)) for tree in self.trees]) * (1 if ordered else -1)
        return w / (sigma_next - sigma).abs().sqrt()
