"""A1111's RNG sources (its `randn_source` setting): one generator per seed, each `randn` its next draw.

- CPU: torch's CPU generator (Mersenne Twister);
- GPU: torch's CUDA generator (Philox), drawn on the GPU;
- NV: the GPU's values computed on the CPU (`philox`), for machines without CUDA.
Every draw comes back as float32 on the CPU, whatever made it (the values do not change on the way).
"""

from typing import Protocol

import torch

from atlas.core.errors import BadInput
from atlas.engine.rng.philox import PhiloxGenerator


class SeedGenerator(Protocol):
    def randn(self, shape: tuple[int, ...]) -> torch.Tensor: ...


class CpuGenerator:
    def __init__(self, seed: int):
        self.generator = torch.Generator("cpu").manual_seed(int(seed))

    def randn(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randn(shape, generator=self.generator)


class CudaGenerator:
    def __init__(self, seed: int):
        self.generator = torch.Generator("cuda").manual_seed(int(seed))

    def randn(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.randn(shape, generator=self.generator, device="cuda").cpu()


class NvGenerator:
    def __init__(self, seed: int):
        self.philox = PhiloxGenerator(seed)

    def randn(self, shape: tuple[int, ...]) -> torch.Tensor:
        return torch.from_numpy(self.philox.randn(shape))


def check_available(source: str) -> None:
    """A BadInput when `source` cannot draw here.

    A1111 quietly draws "GPU" noise with the CPU generator on a machine without CUDA (and on a Mac)
    and still writes no `RNG:`, so its text claims GPU noise it did not use. atlas refuses instead:
    NV gives CUDA's noise on any machine.
    """
    if source == "GPU" and not torch.cuda.is_available():
        raise BadInput("RNG source GPU draws with CUDA's generator and this machine has no CUDA device; "
                       "RNG source NV computes the same noise on the CPU")


def generator(source: str, seed: int) -> SeedGenerator:
    """A fresh generator of `source` ("CPU", "GPU", "NV") seeded with `seed`."""
    check_available(source)
    if source == "CPU":
        return CpuGenerator(seed)
    if source == "GPU":
        return CudaGenerator(seed)
    if source == "NV":
        return NvGenerator(seed)
    raise BadInput(f"unknown RNG source {source!r}")


def seed_noise(source: str, seed: int, shape: tuple[int, ...]) -> torch.Tensor:
    """The first draw of a fresh generator: what A1111's `randn_local` gives (its DPM++ SDE Brownian tree
    draws its noise so, with the image seeds)."""
    return generator(source, seed).randn(tuple(shape))
