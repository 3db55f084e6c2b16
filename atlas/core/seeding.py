"""How a pass makes its noise from its seed, as A1111 does: the RNG source, the eta noise seed delta,
the variation seed and strength, and the seed resize. Torch-free: the record, the importers and the
CLI check and convert these; `atlas.engine.rng` draws the noise.

Three spellings of the same settings:
- `SeedSettings`, checked on construction (ranges as A1111's UI allows them);
- pass `settings` keys (`SETTINGS_KEYS`): what atlas records;
- A1111 infotext fields (`RNG`, `ENSD`, `Variation seed`, `Variation seed strength`, `Seed resize from`),
  written only when A1111 writes them (see `to_infotext`).
"""

import re
import secrets
from dataclasses import dataclass

from atlas.core import sampler_names
from atlas.core.errors import BadInput

# A1111's `randn_source` setting. A1111's default is GPU; atlas's is CPU (what atlas always drew).
RNG_SOURCES = ("GPU", "CPU", "NV")
DEFAULT_RNG = "CPU"
A1111_DEFAULT_RNG = "GPU"  # an A1111 infotext without `RNG:` was made with this
MAX_SEED = 2**32 - 1  # A1111's random seeds and UI; torch itself takes 64 bits
MAX_ENSD = 2**32 - 1
RESIZE_RANGE = (8, 2048)  # A1111's "Resize seed from width/height" sliders: 0 (off) to 2048, step 8

# The samplers whose configuration in A1111 says `uses_ensd` (modules/sd_samplers_kdiffusion.py):
# A1111 writes `ENSD:` for these only, and only when their eta is not 0. It shifts the later draws of
# every sampler all the same (see atlas.engine.rng.ImageNoise): a quirk, since DDIM with eta and
# Restart draw from the shifted generators too and their infotext does not say so. atlas's own
# record keeps `ensd` whatever the sampler.
USES_ENSD = ("Euler a", "DPM2 a", "DPM++ 2S a", "DPM fast", "DPM adaptive")
DEFAULT_ETA = 1.0  # A1111's `eta_ancestral` default, the eta of every k-diffusion sampler unless set

SETTINGS_KEYS = ("rng", "ensd", "variation_seed", "variation_strength", "seed_resize_from")
INFOTEXT_KEYS = ("Variation seed", "Variation seed strength", "Seed resize from", "ENSD", "RNG")
# The A1111 family: tools that write A1111's infotext and read a missing `RNG:` as GPU.
A1111_FAMILY = ("AUTOMATIC1111", "Forge", "reForge", "EasyReforge", "Forge Classic", "Forge Neo")

_SIZE = re.compile(r"^\s*(\d+)\s*[xX]\s*(\d+)\s*$")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class SeedSettings:
    """The seed settings of one pass. `variation_seed` -1 means random (drawn by `resolved`), as in A1111."""

    rng: str = DEFAULT_RNG
    ensd: int = 0
    variation_seed: int = -1
    variation_strength: float = 0.0
    seed_resize_from: tuple[int, int] | None = None  # (width, height) in pixels

    def __post_init__(self):
        rng = rng_source(self.rng)
        object.__setattr__(self, "rng", rng)
        if not _is_int(self.ensd) or abs(self.ensd) > MAX_ENSD:
            raise BadInput(f"eta noise seed delta (ENSD) must be a whole number between -{MAX_ENSD} and {MAX_ENSD}, "
                           f"got {self.ensd!r}")
        if not _is_int(self.variation_seed) or not -1 <= self.variation_seed <= MAX_SEED:
            raise BadInput(f"variation seed must be -1 (random) or between 0 and {MAX_SEED}, "
                           f"got {self.variation_seed!r}")
        strength = self.variation_strength
        if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0.0 <= strength <= 1.0:
            raise BadInput(f"variation strength must be between 0 and 1, got {strength!r}")
        object.__setattr__(self, "variation_strength", float(strength))
        if self.seed_resize_from is not None:
            object.__setattr__(self, "seed_resize_from", check_resize(self.seed_resize_from))

    @property
    def varies(self) -> bool:
        """Whether the variation seed takes part (A1111 ignores it at strength 0)."""
        return self.variation_strength != 0.0

    def resolved(self) -> "SeedSettings":
        """These settings with a random variation seed drawn for -1 (when it takes part), to be recorded."""
        if self.varies and self.variation_seed == -1:
            return SeedSettings(self.rng, self.ensd, secrets.randbelow(MAX_SEED + 1), self.variation_strength,
                                self.seed_resize_from)
        return self

    def image_seeds(self, seed: int, count: int) -> tuple[list[int], list[int]]:
        """(seeds, variation seeds) of `count` images of one job, as A1111 numbers them.

        The variation seeds count up from the variation seed; the seeds count up from `seed` too, except
        when the variation takes part: then every image has the same seed (an A1111 quirk we follow, so
        that a batch shows variations of one image).
        """
        if self.varies and self.variation_seed == -1:
            raise BadInput("the variation seed is still -1 (random): resolve it before drawing noise")
        seeds = [seed + (0 if self.varies else i) for i in range(count)]
        return seeds, [self.variation_seed + i for i in range(count)]

    def to_settings(self) -> dict:
        """The pass `settings` keys: the source always, the rest only when they take part."""
        out: dict = {"rng": self.rng}
        if self.ensd:
            out["ensd"] = self.ensd
        if self.varies:
            out["variation_seed"] = self.variation_seed
            out["variation_strength"] = self.variation_strength
        if self.seed_resize_from is not None:
            out["seed_resize_from"] = "{}x{}".format(*self.seed_resize_from)
        return out

    @classmethod
    def from_settings(cls, settings: dict, default_rng: str = DEFAULT_RNG) -> "SeedSettings":
        """The seed settings a pass recorded (missing keys: the defaults; `default_rng` for a missing source)."""
        resize = settings.get("seed_resize_from")
        return cls(rng=settings.get("rng") or default_rng, ensd=settings.get("ensd", 0),
                   variation_seed=settings.get("variation_seed", -1),
                   variation_strength=settings.get("variation_strength", 0.0),
                   seed_resize_from=parse_resize(resize) if isinstance(resize, str) else resize)

    def to_infotext(self, sampler: str | None, eta: float | None = None) -> dict[str, object]:
        """A1111's infotext fields, each only when A1111 writes it (modules/processing.py, create_infotext):
        `Variation seed` (this image's) and its strength when the strength is not 0; `Seed resize from`
        when set; `ENSD` when not 0 and the sampler uses it (`writes_ensd`); `RNG` unless it is GPU.
        """
        out: dict[str, object] = {}
        if self.varies:
            out["Variation seed"] = self.variation_seed
            out["Variation seed strength"] = self.variation_strength
        if self.seed_resize_from is not None:
            out["Seed resize from"] = "{}x{}".format(*self.seed_resize_from)
        if self.ensd and writes_ensd(sampler, eta):
            out["ENSD"] = self.ensd
        if self.rng != A1111_DEFAULT_RNG:
            out["RNG"] = self.rng
        return out


def rng_source(name) -> str:
    """A1111's spelling of an RNG source ("nv" -> "NV"), or a BadInput naming the known ones."""
    text = str(name).strip().upper() if isinstance(name, str) else None
    if text not in RNG_SOURCES:
        raise BadInput(f"unknown RNG source {name!r}; known: {', '.join(RNG_SOURCES)} "
                       "(NV draws CUDA's GPU noise on the CPU)")
    return text


def check_resize(size) -> tuple[int, int]:
    low, high = RESIZE_RANGE
    if not isinstance(size, (tuple, list)) or len(size) != 2 or not all(_is_int(v) for v in size):
        raise BadInput(f"seed resize must be a width and a height, got {size!r}")
    for name, value in zip(("width", "height"), size, strict=True):
        if not low <= value <= high or value % 8:
            raise BadInput(f"seed resize {name} must be a multiple of 8 between {low} and {high}, got {value}")
    return int(size[0]), int(size[1])


def parse_resize(text: str) -> tuple[int, int]:
    """`WIDTHxHEIGHT` (as the infotext writes it) -> (width, height), checked."""
    match = _SIZE.match(text or "")
    if not match:
        raise BadInput(f"seed resize must look like WIDTHxHEIGHT (e.g. 512x512), got {text!r}")
    return check_resize((int(match.group(1)), int(match.group(2))))


def writes_ensd(sampler: str | None, eta: float | None = None) -> bool:
    """Whether A1111 writes `ENSD:` for this sampler (any tool's spelling): it uses ENSD and its eta is not 0."""
    name, _ = sampler_names.normalise(sampler)
    return name in USES_ENSD and (DEFAULT_ETA if eta is None else eta) != 0


def settings_from_infotext(fields: dict[str, str], tool: str | None = None) -> dict:
    """Pass `settings` keys from an infotext's fields (keys any case), leaving out what does not parse.

    A text of the A1111 family without `RNG:` was made with A1111's default, the GPU source.
    """
    lower = {key.lower(): str(value).strip() for key, value in fields.items()}
    out: dict = {}
    rng = lower.get("rng")
    if rng is not None and rng.upper() in RNG_SOURCES:
        out["rng"] = rng.upper()
    elif rng is None and tool in A1111_FAMILY:
        out["rng"] = A1111_DEFAULT_RNG
    for key, name in (("ensd", "ensd"), ("variation seed", "variation_seed")):
        number = _int(lower.get(key))
        if number is not None:
            out[name] = number
    strength = _float(lower.get("variation seed strength"))
    if strength is not None:
        out["variation_strength"] = strength
    match = _SIZE.match(lower.get("seed resize from") or "")
    if match:
        out["seed_resize_from"] = f"{int(match.group(1))}x{int(match.group(2))}"
    return out


def infotext_from_settings(settings: dict, sampler: str | None, default_rng: str | None = DEFAULT_RNG) -> dict:
    """A1111's seed fields for a pass's `settings`. `default_rng` is the source of a pass that recorded
    none (None: not known, so no `RNG:` is written). Settings that do not check give no fields."""
    try:
        found = SeedSettings.from_settings(settings, default_rng or A1111_DEFAULT_RNG)
    except BadInput:
        return {}
    eta = settings.get("eta")
    return found.to_infotext(sampler, _float(str(eta)) if eta is not None else None)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _float(text: str | None) -> float | None:
    try:
        number = float(text) if text is not None else None
    except ValueError:
        return None
    return number if number is not None and number == number else None
