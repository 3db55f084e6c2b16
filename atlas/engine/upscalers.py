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
MODEL_TILE = 256  # the upscaler model sees tiles this size (plus padding) so memory stays flat
MODEL_PAD = 16


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


def apply_model(descriptor, image: Image.Image) -> Image.Image:
    """One application of the model, in padded tiles so a large image never sits in the model whole."""
    scale = descriptor.scale
    source = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    height, width, _ = source.shape
    out = np.zeros((height * scale, width * scale, 3), dtype=np.uint8)
    device = next(descriptor.model.parameters()).device
    with torch.no_grad():
        for y in range(0, height, MODEL_TILE):
            for x in range(0, width, MODEL_TILE):
                x0, y0 = max(0, x - MODEL_PAD), max(0, y - MODEL_PAD)
                x1, y1 = min(width, x + MODEL_TILE + MODEL_PAD), min(height, y + MODEL_TILE + MODEL_PAD)
                patch = torch.from_numpy(source[y0:y1, x0:x1]).permute(2, 0, 1)[None].to(device)
                result = descriptor(patch)[0].permute(1, 2, 0).clamp(0, 1).cpu().numpy()
                inner_w, inner_h = min(MODEL_TILE, width - x), min(MODEL_TILE, height - y)
                ox, oy = (x - x0) * scale, (y - y0) * scale
                crop = result[oy:oy + inner_h * scale, ox:ox + inner_w * scale]
                out[y * scale:(y + inner_h) * scale, x * scale:(x + inner_w) * scale] = \
                    (crop * 255.0 + 0.5).astype(np.uint8)
    return Image.fromarray(out, "RGB")


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
