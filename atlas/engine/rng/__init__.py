"""Per-image noise as A1111 draws it (modules/rng.py, ImageRNG): one generator per image seed.

The sampler asks a `NoiseSource` for the start noise once (`first`) and for every later draw of an
ancestral or SDE step (`next`), so a seed gives the same image whatever the batch it ran in.
`ImageNoise` adds what A1111 adds to the start noise, in its order, per image:
1. the variation: the seed's noise and the variation seed's noise joined by `slerp` at the strength;
2. the seed resize: that noise drawn at the other size and set into the middle of the seed's noise at
   this size (`place_centred`);
3. the eta noise seed delta: after the start noise, the later draws come from new generators seeded
   with seed + ENSD (for every sampler: see `atlas.core.seeding.USES_ENSD` for when A1111 writes it).
The RNG sources are in `sources`; `image_noise` builds an `ImageNoise` from a pass's `SeedSettings`.
"""

from typing import Protocol

import torch

from atlas.core.seeding import SeedSettings
from atlas.engine.rng.sources import SeedGenerator, check_available, generator, seed_noise

__all__ = ["ImageNoise", "NoiseSource", "image_noise", "place_centred", "seed_noise", "slerp"]

LATENT_FACTOR = 8  # pixels per latent cell: A1111 divides the seed resize size by 8 (its `opt_f`)


class NoiseSource(Protocol):
    seeds: list[int]  # the image seeds (SDE samplers seed their Brownian tree with these)

    def first(self) -> torch.Tensor:
        """The start noise, shape (len(seeds), *shape), float32 on the CPU."""
        ...

    def next(self) -> torch.Tensor:
        """A later draw (an ancestral step's noise), same shape."""
        ...


def slerp(val: float, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
    """A1111's spherical interpolation of one image's noise `low` (C, H, W) towards `high` at `val`.

    Quirks we follow: the norms and angles are taken along dim 1 (each (channel, column) is one vector
    over the rows), and where the vectors are nearly parallel (mean cosine > 0.9995) it falls back to
    low * val + high * (1 - val), the weights the other way round from the spherical formula.
    """
    low_unit = low / torch.norm(low, dim=1, keepdim=True)
    high_unit = high / torch.norm(high, dim=1, keepdim=True)
    cosine = (low_unit * high_unit).sum(1)
    if cosine.mean() > 0.9995:
        return low * val + high * (1 - val)
    omega = torch.acos(cosine)
    sin_omega = torch.sin(omega)
    return ((torch.sin((1.0 - val) * omega) / sin_omega).unsqueeze(1) * low
            + (torch.sin(val * omega) / sin_omega).unsqueeze(1) * high)


def place_centred(target: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """`target` (C, H, W) with `noise` (C, h, w) set into its middle, as A1111's seed resize does.

    Along each axis the offset is floor((target - noise) / 2): a smaller noise lands whole at that
    offset; a larger one is cropped by the same amount from its start and only target + 2 * offset
    cells are copied, so with an odd difference the last row or column keeps `target`'s values.
    """
    out = target.clone()
    spans = []
    for axis in (1, 2):
        offset = (target.shape[axis] - noise.shape[axis]) // 2
        length = noise.shape[axis] if offset >= 0 else noise.shape[axis] + 2 * offset
        spans.append((max(offset, 0), max(-offset, 0), length))  # (into target, from noise, length)
    (ty, dy, h), (tx, dx, w) = spans
    out[:, ty:ty + h, tx:tx + w] = noise[:, dy:dy + h, dx:dx + w]
    return out


class ImageNoise:
    """A1111's per-image generators for one batch: each image draws from its own seed's stream.

    `resize_from` is the (width, height) in pixels whose noise the seeds give (A1111's "Resize seed
    from"); `variation_seeds` holds one variation seed per image.
    """

    def __init__(self, shape: tuple[int, ...], seeds: list[int], *, source: str = "CPU", ensd: int = 0,
                 variation_seeds: list[int] | None = None, variation_strength: float = 0.0,
                 resize_from: tuple[int, int] | None = None):
        check_available(source)
        self.shape = tuple(shape)
        self.seeds = list(seeds)
        self.source = source
        self.ensd = ensd
        self.variation_strength = variation_strength
        self.variation_seeds = list(variation_seeds) if variation_seeds is not None else None
        if self.variation_seeds is not None and len(self.variation_seeds) != len(self.seeds):
            # A1111 silently uses variation seed 0 for images beyond the list; a caller bug here.
            raise ValueError(f"{len(self.seeds)} seeds but {len(self.variation_seeds)} variation seeds")
        self.noise_shape = self.shape
        if resize_from is not None and resize_from[0] > 0 and resize_from[1] > 0:
            width, height = resize_from
            self.noise_shape = (self.shape[0], height // LATENT_FACTOR, width // LATENT_FACTOR)
        self.generators: list[SeedGenerator] = [generator(source, seed) for seed in self.seeds]
        self.drawn_first = False

    def _start(self, index: int, seed: int) -> torch.Tensor:
        resized = self.noise_shape != self.shape
        # The seed's own generator gives the noise at this size; the other size comes from a fresh one.
        noise = (generator(self.source, seed) if resized else self.generators[index]).randn(self.noise_shape)
        if self.variation_seeds is not None and self.variation_strength != 0:
            other = generator(self.source, self.variation_seeds[index]).randn(self.noise_shape)
            noise = slerp(self.variation_strength, noise, other)
        if resized:
            noise = place_centred(self.generators[index].randn(self.shape), noise)
        return noise

    def first(self) -> torch.Tensor:
        self.drawn_first = True
        noise = torch.stack([self._start(i, seed) for i, seed in enumerate(self.seeds)])
        if self.ensd:
            self.generators = [generator(self.source, seed + self.ensd) for seed in self.seeds]
        return noise

    def next(self) -> torch.Tensor:
        if not self.drawn_first:  # as A1111: the first draw asked for is the start noise
            return self.first()
        return torch.stack([g.randn(self.shape) for g in self.generators])


def image_noise(shape: tuple[int, ...], seeds: list[int], seeding: SeedSettings | None = None,
                variation_seeds: list[int] | None = None) -> ImageNoise:
    """The `ImageNoise` of a pass with `seeding` (default: atlas's CPU source, nothing else).

    `variation_seeds` defaults to the variation seed counting up per image, as A1111 numbers a batch
    (`SeedSettings.image_seeds` gives both lists for a whole job).
    """
    seeding = seeding or SeedSettings()
    if seeding.varies and variation_seeds is None:
        variation_seeds = seeding.image_seeds(seeds[0] if seeds else 0, len(seeds))[1]
    return ImageNoise(shape, seeds, source=seeding.rng, ensd=seeding.ensd,
                      variation_seeds=variation_seeds if seeding.varies else None,
                      variation_strength=seeding.variation_strength, resize_from=seeding.seed_resize_from)
