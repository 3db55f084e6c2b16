"""What a pass is asked to do: txt2img, img2img, Outpainting mk2, SD upscale, checked without torch.

Defaults and limits come from the one table, `atlas.core.settings.SETTINGS`. `checked()` raises a
`SettingError` naming the setting, so the CLI refuses a bad value (exit 2) and a recipe names its
JSON path, before the engine (and torch) is imported. The engine takes these requests as they are.
"""

from dataclasses import dataclass, field, fields
from typing import ClassVar

from atlas.core import seeding, settings
from atlas.core.errors import BadInput
from atlas.core.record.samplers import canonical
from atlas.core.settings import SettingError, default


def _default(name: str, kind: str = "txt2img"):
    return field(default=default(name, kind))


@dataclass(kw_only=True)
class SeedSettings:
    """How the noise is made (A1111's seed extras) and the schedule: shared by every pass kind.

    Validated here; the engine draws the noise from them (`seeding`, then `atlas.engine.rng`)."""

    schedule: str = _default("schedule")
    rng: str = _default("rng")
    ensd: int = _default("ensd")
    variation_seed: int | None = _default("variation_seed")
    variation_strength: float = _default("variation_strength")
    seed_resize_from: tuple[int, int] | str | None = _default("seed_resize_from")

    kind: ClassVar[str] = "txt2img"
    optional: ClassVar[tuple[str, ...]] = ()  # settings None leaves to the lineage (or the engine)

    def seeding(self) -> "seeding.SeedSettings":
        """The noise settings as `atlas.core.seeding` records them, a random variation seed drawn."""
        resize = self.seed_resize_from
        return seeding.SeedSettings(
            rng=self.rng, ensd=self.ensd, variation_seed=-1 if self.variation_seed is None else self.variation_seed,
            variation_strength=self.variation_strength,
            seed_resize_from=settings.check_seed_resize(resize) if isinstance(resize, str) else resize).resolved()

    def check_settings(self):
        for name in ("prompt", "negative_prompt"):
            settings.check_prompt(name, getattr(self, name, None))
        for name in settings.KIND_SETTINGS[self.kind]:
            value = getattr(self, name)
            if name == "seed_resize_from":
                setattr(self, name, settings.check_seed_resize(value))
            elif name == "sampler":
                if value is not None or name not in self.optional:
                    setattr(self, name, _sampler(value))
            elif value is None and (name in self.optional or settings.SETTINGS[name].default is None):
                continue
            else:
                setattr(self, name, settings.check(name, value))
        return self


def _sampler(name) -> str:
    if not isinstance(name, str):
        raise SettingError("sampler", f"sampler must be a name, got {name!r}")
    try:
        return canonical(name)
    except SettingError:
        raise
    except BadInput as exc:
        raise SettingError("sampler", str(exc)) from None


@dataclass
class Txt2ImgRequest(SeedSettings):
    prompt: str
    negative_prompt: str = ""
    steps: int = _default("steps")
    sampler: str = _default("sampler")
    cfg: float = _default("cfg")
    width: int = _default("width")
    height: int = _default("height")
    seed: int = _default("seed")
    model: str | None = None

    def checked(self) -> "Txt2ImgRequest":
        return self.check_settings()


@dataclass
class PassRequest(SeedSettings):
    """Settings shared by every pass kind; None means "as in the input's lineage"."""

    prompt: str | None = None
    negative_prompt: str | None = None
    steps: int = _default("steps")
    sampler: str | None = None
    cfg: float | None = None
    denoise: float = _default("denoise")
    seed: int = _default("seed")
    model: str | None = None

    kind: ClassVar[str] = "img2img"
    optional: ClassVar[tuple[str, ...]] = ("sampler", "cfg")

    def checked(self):
        return self.check_settings()

    def check_common(self):  # the name passes used before the table; kept for callers
        return self.check_settings()


@dataclass
class Img2ImgRequest(PassRequest):
    pass


@dataclass
class OutpaintRequest(PassRequest):
    side: str = _default("side", "outpaint")
    pixels: int = _default("pixels", "outpaint")
    mask_blur: int = _default("mask_blur", "outpaint")
    falloff: float = _default("falloff", "outpaint")
    colour_variation: float = _default("colour_variation", "outpaint")
    steps: int = _default("steps", "outpaint")
    denoise: float = _default("denoise", "outpaint")
    window: int = 512  # the engine's processing extent along the growth axis, not a user setting

    kind: ClassVar[str] = "outpaint"


@dataclass
class UpscaleRequest(PassRequest):
    upscaler: str | None = _default("upscaler", "upscale")
    scale: float = _default("scale", "upscale")
    tile: int = _default("tile", "upscale")
    overlap: int = _default("overlap", "upscale")
    batch: int = _default("batch", "upscale")
    steps: int = _default("steps", "upscale")
    denoise: float = _default("denoise", "upscale")

    kind: ClassVar[str] = "upscale"
    optional: ClassVar[tuple[str, ...]] = ("sampler", "cfg", "upscaler")  # no upscaler: Lanczos

    def checked(self):
        self.check_settings()
        if self.overlap >= self.tile:
            raise SettingError("overlap", f"tile overlap must be below the tile size ({self.tile}), "
                                          f"got {self.overlap}")
        return self


REQUESTS = {"txt2img": Txt2ImgRequest, "img2img": Img2ImgRequest, "outpaint": OutpaintRequest,
            "upscale": UpscaleRequest}


def for_kind(kind: str, values: dict):
    """The checked request of a `kind` pass from `values` (a recipe entry's settings)."""
    cls = REQUESTS[kind]
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise SettingError(unknown[0], f"{kind} has no setting {unknown[0]!r}")
    if kind == "txt2img":
        values = {"prompt": "", **values}
    return cls(**values).checked()


def check_input_size(width: int, height: int, what: str) -> None:
    """An input image's sides must be multiples of 8 for the VAE (img2img, outpaint)."""
    if width % 8 or height % 8:
        raise BadInput(f"{what} is {width}x{height}; its sides must be multiples of 8 for the VAE")
