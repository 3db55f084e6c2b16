"""Per-image noise as A1111 draws it: one generator per image seed.

The sampler asks a `NoiseSource` for the start noise once (`first`) and for every later draw of an
ancestral or SDE step (`next`), so a seed gives the same image whatever the batch it ran in.
This first version is A1111's "CPU" RNG source only: `torch.randn` on a CPU generator per seed.
"""

from typing import Protocol

import torch


class NoiseSource(Protocol):
    seeds: list[int]  # the image seeds (SDE samplers seed their Brownian tree with these)

    def first(self) -> torch.Tensor:
        """The start noise, shape (len(seeds), *shape), float32 on the CPU."""
        ...

    def next(self) -> torch.Tensor:
        """A later draw (an ancestral step's noise), same shape."""
        ...


class ImageNoise:
    """A1111's per-image generators with the CPU source: each image draws from its own seed's stream."""

    def __init__(self, shape: tuple[int, ...], seeds: list[int]):
        self.shape = tuple(shape)
        self.seeds = list(seeds)
        self.generators = [torch.Generator("cpu").manual_seed(seed) for seed in self.seeds]

    def _draw(self) -> torch.Tensor:
        return torch.stack([torch.randn(self.shape, generator=g) for g in self.generators])

    def first(self) -> torch.Tensor:
        return self._draw()

    def next(self) -> torch.Tensor:
        return self._draw()
