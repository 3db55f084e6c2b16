"""Upscalers for SD upscale: learned models loaded with spandrel, or A1111's built-in Lanczos and None.

The demo upscaler is a tiny SwinIR with random weights, built from a fixed seed with spandrel's
own architecture class, saved as a `.pth` and registered (labelled demo) like any upscaler, then
loaded back through spandrel's ModelLoader: the path a real SwinIR_4x or ESRGAN file takes.
"""

import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from atlas.core.errors import BadInput
from atlas.core.record.recipes import upscale_size
from atlas.engine import tiles

Step = Callable[[Image.Image], Image.Image]

LANCZOS = "Lanczos"
NONE = "None"  # A1111's "None": SD upscale then tiles the input as it is, at its own size
MAX_APPLICATIONS = 3  # A1111 runs an upscaler at most 3 times towards the target
DEMO_UPSCALER_NAME = "atlas-demo-tiny-swinir"
SEED = 20221023
CARD = """---
license: CC0-1.0
tags: [atlas-demo, random-weights, upscaler]
---
# atlas demo upscaler

A tiny SwinIR x2 with random weights, built by atlas from seed {seed} with spandrel's SwinIR class.
It is not a trained model: it exists to exercise SD upscale without a download.
"""
MODEL_TILE = 192  # A1111's defaults for its upscaler models' own tiles (ESRGAN_tile, SWIN_tile, DAT_tile)
MODEL_OVERLAP = 8


def build_demo(path: Path) -> Path:
    from spandrel.architectures.SwinIR import SwinIR

    torch.manual_seed(SEED)
    with warnings.catch_warnings():  # torch.meshgrid's indexing advice, from inside spandrel's SwinIR
        warnings.simplefilter("ignore", UserWarning)
        net = SwinIR(img_size=32, embed_dim=12, depths=[2], num_heads=[2], window_size=8, mlp_ratio=2.0,
                     upscale=2, upsampler="pixelshuffledirect", resi_connection="1conv")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.state_dict(), path)
    (path.parent / "README.md").write_text(CARD.format(seed=SEED), encoding="utf-8")
    return path


def ensure_demo(catalogue):
    """The demo upscaler's catalogue row, building and registering it on first use."""
    from sqlmodel import select

    from atlas.core.catalogue.tables import Model
    from atlas.core.record.models import register

    with catalogue.session() as session:
        found = session.exec(select(Model).where(Model.name == DEMO_UPSCALER_NAME)).first()
        if found is not None:
            return found
        path = catalogue.home.models / DEMO_UPSCALER_NAME / f"{DEMO_UPSCALER_NAME}.pth"
        if not path.is_file():
            tmp = path.with_name(".build-" + path.name)
            build_demo(tmp)
            tmp.replace(path)
        model = register(session, str(path), DEMO_UPSCALER_NAME, None, kind="upscaler", demo=True)
        session.commit()
        return model


def builtin(name: str | None) -> str | None:
    """LANCZOS or NONE for those built-in upscalers' names (no name means Lanczos), else None."""
    if not name or name.lower() == LANCZOS.lower():
        return LANCZOS
    if name.lower() == NONE.lower():
        return NONE
    return None


def resolve(catalogue, name: str | None):
    """The upscaler Model row for a registered name or a weights file path; None for Lanczos or None.

    A file is registered on first use (its licence must come from a model card beside it)."""
    from sqlmodel import select

    from atlas.core.catalogue.store import sha256_file
    from atlas.core.catalogue.tables import Model
    from atlas.core.record import models

    if builtin(name) is not None:
        return None
    if name == DEMO_UPSCALER_NAME:
        return ensure_demo(catalogue)
    with catalogue.session() as session:
        row = session.exec(select(Model).where(Model.name == name, Model.kind == "upscaler")).first()
        if row is not None:
            return row
        path = Path(name).expanduser()
        if not path.is_file():
            known = session.exec(select(Model.name).where(Model.kind == "upscaler")).all()
            raise BadInput(f"unknown upscaler {name!r}: not Lanczos, a registered upscaler "
                           f"({', '.join(known) or 'none registered'}) or a .pth/.safetensors file")
        if path.suffix not in (".pth", ".safetensors", ".pt", ".ckpt"):
            raise BadInput(f"{name}: an upscaler file must be .pth, .pt, .ckpt or .safetensors")
        digest = sha256_file(path)
        row = session.exec(select(Model).where(Model.sha256 == digest, Model.kind == "upscaler")).first()
        if row is not None:
            return row
        load_file(str(path.resolve()))  # refuse what spandrel cannot read before registering it
        try:
            row = models.register(session, str(path), path.stem, None, kind="upscaler")
        except BadInput as exc:
            raise BadInput(f"{exc} (or register it first: atlas model add {name} --kind upscaler "
                           "--name NAME --licence ID)") from None
        session.commit()
        return row


@cache
def load_file(path: str):
    from spandrel import ModelLoader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            descriptor = ModelLoader(device="cpu").load_from_file(path)
    except Exception as exc:
        raise BadInput(f"{path}: spandrel cannot load this upscaler ({type(exc).__name__}: {exc})") from None
    from spandrel import ImageModelDescriptor

    if not isinstance(descriptor, ImageModelDescriptor) or descriptor.scale < 2:
        raise BadInput(f"{path}: not a super-resolution model (spandrel: {descriptor.architecture.name}, "
                       f"scale {getattr(descriptor, 'scale', '?')})")
    from atlas.engine.device import pick

    return descriptor.to(pick().torch_device).eval()


def to_model_input(image: Image.Image, dtype, device) -> torch.Tensor:
    """1 x 3 x H x W in [0, 1]. Quirk we follow: A1111 hands upscaler models BGR, not RGB."""
    array = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1].transpose(2, 0, 1)) / 255
    return torch.from_numpy(array).to(device=device, dtype=dtype)[None]


def from_model_output(tensor: torch.Tensor) -> np.ndarray:
    """H x W x 3 uint8 RGB from a 1 x 3 x H x W BGR model output: clamped, x 255, rounded."""
    array = tensor[0].float().cpu().clamp_(0, 1).numpy()
    return (255.0 * np.moveaxis(array, 0, 2)).round().astype(np.uint8)[:, :, ::-1]


def _model_param(descriptor):
    return next(descriptor.model.parameters())


def apply_model(descriptor, image: Image.Image) -> Image.Image:
    """One application of the model, tiled as A1111 tiles it (its default tile 192, overlap 8):
    SwinIR averages overlapping output tiles (`tiled_average`), the others (ESRGAN, DAT, HAT, ...) go
    through SD upscale's own grid and blending (`tiled_grid`)."""
    if descriptor.architecture.id == "SwinIR":
        return tiled_average(descriptor, image, MODEL_TILE, MODEL_OVERLAP)
    return tiled_grid(descriptor, image, MODEL_TILE, MODEL_OVERLAP)


def average_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Tile offsets along one axis for `tiled_average`: every tile - overlap pixels, then one flush
    with the far edge (a tile longer than the side shrinks to it)."""
    return list(range(0, length - tile, tile - overlap)) + [length - tile]


def tiled_average(descriptor, image: Image.Image, tile: int, overlap: int) -> Image.Image:
    """A1111's SwinIR tiling: square tiles of min(tile, width, height) px, each output pixel the mean of
    the tiles over it (summed in tile order, in the model's dtype). Only the band of output rows the
    current tile row can still touch is held, not A1111's two full-size float buffers."""
    param = _model_param(descriptor)
    scale = descriptor.scale
    source = to_model_input(image, param.dtype, "cpu")
    _, _, height, width = source.shape
    tile = min(tile, height, width)
    ys, xs = average_starts(height, tile, overlap), average_starts(width, tile, overlap)
    out = np.zeros((height * scale, width * scale, 3), dtype=np.uint8)
    band_top = 0  # output row where `total`/`count` start
    total = torch.zeros((1, 3, 0, width * scale), dtype=param.dtype, device=param.device)
    count = torch.zeros_like(total)

    def emit(rows: int):  # the first `rows` rows of the band are final
        out[band_top:band_top + rows] = from_model_output(total[:, :, :rows] / count[:, :, :rows])

    with torch.inference_mode():
        for y in ys:
            done = y * scale - band_top
            emit(done)
            keep_total, keep_count = total[:, :, done:], count[:, :, done:]
            grow = (y + tile) * scale - (band_top + total.shape[2])
            total = torch.cat([keep_total, keep_total.new_zeros((1, 3, grow, width * scale))], dim=2)
            count = torch.cat([keep_count, keep_count.new_zeros((1, 3, grow, width * scale))], dim=2)
            band_top = y * scale
            for x in xs:
                patch = source[:, :, y:y + tile, x:x + tile].to(param.device)
                total[:, :, :, x * scale:(x + tile) * scale] += descriptor(patch)
                count[:, :, :, x * scale:(x + tile) * scale] += 1
        emit(total.shape[2])
    return Image.fromarray(out, "RGB")


def tiled_grid(descriptor, image: Image.Image, tile: int, overlap: int) -> Image.Image:
    """A1111's tiling for ESRGAN-like models: SD upscale's grid (tile x tile, `overlap`) on the input,
    each tile upscaled and rounded to 8 bits, then combined on the grid scaled by the model's factor."""
    param = _model_param(descriptor)
    grid = tiles.grid(image.width, image.height, tile, tile, overlap)
    scale = descriptor.scale
    big = tiles.scaled(grid, scale)
    assembler = tiles.Assembler(big)
    with torch.inference_mode():
        for small, large in zip(grid.tiles, big.tiles, strict=True):
            patch = to_model_input(image.crop(small.box), param.dtype, param.device)
            assembler.add(large, from_model_output(descriptor(patch)))
    return Image.fromarray(assembler.image(), "RGB")


def flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency put onto white (A1111 flattens onto its img2img background colour,
    white by default, before upscaling)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        background.paste(rgba, mask=rgba)
        return background.convert("RGB")
    return image.convert("RGB")


def lanczos_step(scale: float) -> Step:
    """A1111's Lanczos upscaler: one application resizes by the requested scale, truncated to pixels."""
    def step(image: Image.Image) -> Image.Image:
        return image.resize((int(image.width * scale), int(image.height * scale)), Image.Resampling.LANCZOS)
    return step


def model_step(descriptor) -> Step:
    """A learned upscaler: one application runs the model at its own scale."""
    return lambda image: apply_model(descriptor, image)


def upscale(image: Image.Image, scale: float, step: Step) -> tuple[Image.Image, int]:
    """A1111's Upscaler.upscale: the target is the scaled size floored to a multiple of 8; `step`
    (one application of the upscaler) runs until the image reaches the target, at most 3 times and
    no more once it stops growing; then a Lanczos resize to the exact target.

    Returns (image, applications)."""
    width, height = upscale_size(image.width, image.height, scale)
    applied = 0
    for i in range(MAX_APPLICATIONS):
        # Quirk we follow: at scale 1 the upscaler still runs once before the size check.
        if image.width >= width and image.height >= height and (i > 0 or scale != 1):
            break
        before = image.size
        image = step(image)
        applied += 1
        if image.size == before:
            break
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    return image, applied
