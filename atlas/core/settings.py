"""The limits of every generation setting, in one table, checked before any model loads.

`SETTINGS` names each setting once: its type, range, step, default and help. The requests
(`atlas.core.record.requests`), the CLI's options, the recipe checks and the recipe schema's bounds
(tested against this table) all read it, so a value one of them accepts the others accept too.
"""

import math
import re
from dataclasses import dataclass

from atlas.core.errors import BadInput
from atlas.core.sampler_names import SCHEDULE_TYPES

CFG_RANGE = (1.0, 30.0)  # A1111's slider range
MAX_SIDE = 16384
MAX_INT = 2**63 - 1  # the largest integer (and id) SQLite and PostgreSQL's bigint store
MAX_SEED = 2**32 - 1  # A1111's seeds are unsigned 32-bit
SIDES = ("left", "right", "up", "down")
RNG_SOURCES = ("CPU", "GPU", "NV")
# Config `[c2pa] training_mining`: the CAWG training-and-mining `use` values (files/credentials.py).
TRAINING_MINING_CHOICES = ("allowed", "notAllowed", "constrained")


class SettingError(BadInput):
    """A setting outside its limits; `setting` names it, so a recipe error can give its JSON path."""

    def __init__(self, setting: str, message: str):
        super().__init__(message)
        self.setting = setting


@dataclass(frozen=True)
class Setting:
    name: str  # the request field, the recipe key; the CLI option is --name-with-dashes
    type: type  # int, float or str
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    low_exclusive: bool = False  # low itself is refused (scale must be above 1)
    multiple_of: int | None = None
    choices: tuple[str, ...] | None = None
    special: tuple = ()  # values allowed outside the range, with a meaning: -1 = random
    label: str | None = None  # how messages name it, when not its name

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def called(self) -> str:
        return self.label or self.name.replace("_", " ")

    def limits(self) -> str:
        """The limits in words, for help and messages: "a multiple of 8 between 64 and 16384"."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        words = []
        if self.multiple_of:
            words.append(f"a multiple of {self.multiple_of}")
        if self.low is not None and self.high is not None:
            low, high = _shown(self.low), _shown(self.high)
            words.append(f"above {low} and at most {high}" if self.low_exclusive else f"between {low} and {high}")
        elif self.low is not None:
            words.append(f"at least {_shown(self.low)}")
        return " ".join(words)

    def check(self, value):
        """`value` (an int given for a float as a float), or a SettingError."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or isinstance(value, bool):
            kind = {int: "a whole number", float: "a number", str: "text"}[self.type]
            raise SettingError(self.name, f"{self.called} must be {kind}, got {value!r}")
        if value in self.special:
            return value
        if self.choices:  # spelt exactly: the recipe schema's enums and the infotext use these words
            if value not in self.choices:
                raise SettingError(self.name, f"{self.called} must be {self.limits()}, not {value!r}")
            return value
        number: float = value  # type: ignore[assignment]  # int or float, as checked above
        if self.type is float and not math.isfinite(number):  # NaN would pass every comparison below
            raise SettingError(self.name, f"{self.called} must be {self.allowed()}, got {value}")
        low_bad = self.low is not None and (number <= self.low if self.low_exclusive else number < self.low)
        high_bad = self.high is not None and number > self.high
        step_bad = self.multiple_of is not None and number % self.multiple_of != 0
        if low_bad or high_bad or step_bad:
            raise SettingError(self.name, f"{self.called} must be {self.allowed()}, got {_shown(value)}")
        return value

    def allowed(self) -> str:
        """The limits with the special values first: "-1 (random) or between 0 and 4294967295"."""
        return " or ".join([*(f"{v} ({SPECIAL_MEANING[v]})" for v in self.special), self.limits()])


SPECIAL_MEANING = {-1: "random"}


def _shown(number) -> str:
    """A number as a message shows it: 4294967295, 0.75, 7 (not 4.29497e+09 or 7.0)."""
    return f"{number:g}" if isinstance(number, float) and abs(number) < 1e6 else str(number)

_TABLE = [
    Setting("width", int, 768, "Width in pixels.", 64, MAX_SIDE, multiple_of=8),
    Setting("height", int, 512, "Height in pixels.", 64, MAX_SIDE, multiple_of=8),
    Setting("steps", int, 50, "Sampling steps.", 1, 1000),
    Setting("sampler", str, "Euler a", "A1111 sampler name."),  # checked by record.samplers.canonical
    Setting("schedule", str, "Automatic", "A1111 schedule type (Automatic: the sampler's own).",
            choices=SCHEDULE_TYPES),
    Setting("cfg", float, 7.0, "CFG scale.", *CFG_RANGE, label="CFG scale"),
    Setting("denoise", float, 0.75, "Denoising strength.", 0, 1, label="denoising strength"),
    Setting("seed", int, -1, "Seed; -1 draws a random seed (recorded).", 0, MAX_SEED, special=(-1,)),
    # atlas draws noise on the CPU by default (the same pixels on every machine); A1111's default is GPU.
    Setting("rng", str, "CPU", "Where noise is drawn, as A1111's RNG source.", choices=RNG_SOURCES,
            label="RNG source"),
    Setting("ensd", int, 0, "Eta noise seed delta, added to the seed of ancestral and SDE noise.", 0, MAX_SEED,
            label="eta noise seed delta"),
    Setting("variation_seed", int, None, "Variation seed (none: no variation; -1 draws one).", 0, MAX_SEED,
            special=(-1,)),
    Setting("variation_strength", float, 0.0, "How far toward the variation seed's noise (slerp).", 0, 1),
    Setting("seed_resize_from", str, None, "Make the noise as for this size, WxH (none: the image's size)."),
    # Outpainting mk2
    Setting("side", str, "left", "The side to grow.", choices=SIDES),
    Setting("pixels", int, 128, "Pixels to add.", 8, 4096, multiple_of=8),
    Setting("mask_blur", int, 8, "Mask blur in pixels.", 0, 256),
    Setting("falloff", float, 1.8, "Fall-off exponent of matched noise.", 0, 10, label="fall-off exponent"),
    Setting("colour_variation", float, 0.03, "Colour variation of matched noise.", 0, 1),
    # SD upscale. The overlap need not be a multiple of 8: tiles sit at any pixel (A1111 accepts any
    # integer); it must stay below the tile size, which `requests` checks.
    Setting("upscaler", str, "Lanczos", "Registered upscaler name, a .pth/.safetensors file (spandrel), or Lanczos."),
    Setting("scale", float, 2.0, "Upscale factor.", 1, 8, low_exclusive=True),
    Setting("tile", int, 512, "Tile size in pixels.", 64, MAX_SIDE, multiple_of=8, label="tile size"),
    Setting("overlap", int, 128, "Tile overlap in pixels (below the tile size).", 0, 4096, label="tile overlap"),
    Setting("batch", int, 1, "Tiles sampled together.", 1, 64),
]
SETTINGS: dict[str, Setting] = {s.name: s for s in _TABLE}

# Defaults that differ by pass kind (the reference workflow's values); the table holds the rest.
KIND_DEFAULTS = {
    "outpaint": {"steps": 100, "denoise": 0.8},
    "upscale": {"steps": 150, "denoise": 0.1},
}
SEED_SETTINGS = ("seed", "rng", "ensd", "variation_seed", "variation_strength", "seed_resize_from")
_COMMON = ("steps", "sampler", "schedule", "cfg", *SEED_SETTINGS)
KIND_SETTINGS = {
    "txt2img": ("width", "height", *_COMMON),
    "img2img": (*_COMMON, "denoise"),
    "outpaint": (*_COMMON, "denoise", "side", "pixels", "mask_blur", "falloff", "colour_variation"),
    "upscale": (*_COMMON, "denoise", "upscaler", "scale", "tile", "overlap", "batch"),
}


def default(name: str, kind: str = "txt2img"):
    return KIND_DEFAULTS.get(kind, {}).get(name, SETTINGS[name].default)


def check(name: str, value):
    return SETTINGS[name].check(value)


# A1111-scale prompts run to a few thousand characters; past this a prompt is a mistake or an attack
# (a 50 MB prompt held its pass at 9.7 GB).
MAX_PROMPT_CHARS = 65536


def check_prompt(name: str, value) -> None:
    """A prompt or negative prompt: text (None leaves it to the input's lineage) of at most MAX_PROMPT_CHARS."""
    if value is None:
        return
    if not isinstance(value, str):
        raise SettingError(name, f"{name.replace('_', ' ')} must be text, got {type(value).__name__}")
    if len(value) > MAX_PROMPT_CHARS:
        raise SettingError(name, f"{name.replace('_', ' ')} is {len(value)} characters long, more than "
                                 f"MAX_PROMPT_CHARS ({MAX_PROMPT_CHARS})")


def parse_size(text: str) -> tuple[int, int]:
    return check_size(*_size_numbers(text, "size"))


def _size_numbers(text, what: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text if isinstance(text, str) else "")
    if not match:
        raise SettingError(what.replace(" ", "_"),
                           f"{what} must look like WIDTHxHEIGHT (e.g. 768x512), got {text!r}")
    return int(match.group(1)), int(match.group(2))


def check_size(width: int, height: int) -> tuple[int, int]:
    return check("width", width), check("height", height)


def check_seed_resize(value) -> tuple[int, int] | None:
    """"WxH" (or a (w, h) pair) as a checked pair; None, "" or "none" for no seed resize.

    Sides follow the width/height limits: the noise is drawn for that size's latents."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    if isinstance(value, list | tuple) and len(value) == 2:
        width, height = value
    else:
        width, height = _size_numbers(value, "seed resize from")
    for side in (width, height):
        try:
            check("width", side)
        except SettingError:
            raise SettingError("seed_resize_from", f"seed resize from must be WIDTHxHEIGHT with sides "
                                                   f"{SETTINGS['width'].limits()}, got {value!r}") from None
    return width, height


def check_steps(steps: int) -> int:
    return check("steps", steps)


def check_cfg(cfg: float) -> float:
    return check("cfg", cfg)


def check_denoise(denoise: float) -> float:
    return check("denoise", denoise)


def check_seed(seed: int) -> int:
    return check("seed", seed)


def a1111_img2img_steps(steps: int, denoise: float) -> int:
    """The steps A1111 actually runs for img2img: int(min(strength, 0.999) * steps) + 1."""
    return int(min(denoise, 0.999) * steps) + 1


def resolve_seed(seed: int) -> int:
    """-1 means random: the seed is drawn here, before sampling, so it can be recorded."""
    import secrets

    return secrets.randbelow(2**32) if seed == -1 else seed
