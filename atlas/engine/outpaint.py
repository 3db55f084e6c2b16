"""Outpainting mk2, implemented from the description below (no A1111 code).

One pass grows the image on one side: the canvas is rounded up to a multiple of 64, the input is
pasted on the kept side, the new strip is filled with *matched noise*, a mask (new strip white,
reaching `mask_blur` pixels into the input) is blurred, img2img runs over a processing window at the
growing edge while the known area is held, and the input is composited back through the mask.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIDES = ("left", "right", "up", "down")
WINDOW = 512  # processing extent along the growth axis (SD v1's native size)


def round64(value: int) -> int:
    return -(-value // 64) * 64


@dataclass(frozen=True)
class Layout:
    side: str
    pixels: int
    size: tuple[int, int]  # the output, exactly input + pixels on one side
    canvas: tuple[int, int]  # processing canvas: size rounded up to multiples of 64
    offset: tuple[int, int]  # where the input sits on the canvas
    input_size: tuple[int, int]
    window: tuple[int, int, int, int]  # processing window (box on the canvas) at the growing edge

    @property
    def horizontal(self) -> bool:
        return self.side in ("left", "right")


def layout(width: int, height: int, side: str, pixels: int, window: int = WINDOW) -> Layout:
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, not {side!r}")
    horizontal = side in ("left", "right")
    out_w, out_h = (width + pixels, height) if horizontal else (width, height + pixels)
    canvas_w, canvas_h = round64(out_w), round64(out_h)
    offset = {"left": (pixels, 0), "up": (0, pixels)}.get(side, (0, 0))
    # The window must hold the new strip and some known context beside it.
    extent = round64(max(window, pixels + 64))
    if horizontal:
        span = min(canvas_w, extent)
        box = (0, 0, span, canvas_h) if side == "left" else (canvas_w - span, 0, canvas_w, canvas_h)
    else:
        span = min(canvas_h, extent)
        box = (0, 0, canvas_w, span) if side == "up" else (0, canvas_h - span, canvas_w, canvas_h)
    return Layout(side, pixels, (out_w, out_h), (canvas_w, canvas_h), offset, (width, height), box)


def known_box(lay: Layout) -> tuple[int, int, int, int]:
    x, y = lay.offset
    return x, y, x + lay.input_size[0], y + lay.input_size[1]


def make_mask(lay: Layout, mask_blur: int) -> Image.Image:
    """Canvas-size mask, 255 where the model works: the new strip plus `mask_blur` px into the input,
    blurred; the rounding padding is white too. The blur is done at the exact output size so the
    padding never bleeds into the input's other edges."""
    out_w, out_h = lay.size
    mask = Image.new("L", (out_w, out_h), 255)
    x0, y0, x1, y1 = known_box(lay)
    inset = {"left": (mask_blur, 0, 0, 0), "right": (0, 0, mask_blur, 0),
             "up": (0, mask_blur, 0, 0), "down": (0, 0, 0, mask_blur)}[lay.side]
    box = (x0 + inset[0], y0 + inset[1], x1 - inset[2] - 1, y1 - inset[3] - 1)
    if box[0] <= box[2] and box[1] <= box[3]:  # a blur wider than the input leaves nothing held
        ImageDraw.Draw(mask).rectangle(box, fill=0)
    if mask_blur > 0:
        mask = mask.filter(ImageFilter.GaussianBlur(mask_blur))
    canvas = Image.new("L", lay.canvas, 255)
    canvas.paste(mask, (0, 0))
    return canvas


def mixed_noise(height: int, width: int, colour_variation: float, rng: np.random.Generator) -> np.ndarray:
    """Uniform noise, grey and per-channel colour mixed in the ratio `colour_variation` (HxWx3)."""
    grey = rng.random((height, width, 1))
    colour = rng.random((height, width, 3))
    return grey * (1.0 - colour_variation) + colour * colour_variation


def histogram_match(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Map `values` onto the distribution of `reference` by rank (quantile mapping), per channel."""
    out = np.empty_like(values, dtype=np.float64)
    for c in range(values.shape[-1]):
        ranks = np.argsort(np.argsort(values[:, c], kind="stable"), kind="stable")
        quantiles = (ranks + 0.5) / len(ranks)
        ref = np.sort(reference[:, c])
        out[:, c] = np.interp(quantiles, (np.arange(len(ref)) + 0.5) / len(ref), ref)
    return out


def matched_noise(image: np.ndarray, known: np.ndarray, falloff: float, colour_variation: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Noise for the unknown area of `image` (HxWx3 floats in [0, 1]) that matches the known area.

    The source (unknown area filled with the known mean) gives a magnitude spectrum, raised to
    `falloff`, and a phase; the noise's own magnitude is shaped by them; the result is normalised
    and histogram-matched to the known pixels. Returns the image with the unknown area filled.
    """
    height, width, _ = image.shape
    known_pixels = image[known]
    source = np.where(known[..., None], image, known_pixels.mean(axis=0))
    spectrum = np.fft.fft2(source, axes=(0, 1))
    magnitude = np.abs(spectrum)
    phase = spectrum / np.maximum(magnitude, 1e-12)
    noise = mixed_noise(height, width, colour_variation, rng)
    noise_magnitude = np.abs(np.fft.fft2(noise - noise.mean(axis=(0, 1)), axes=(0, 1)))
    shaped = np.real(np.fft.ifft2(noise_magnitude * magnitude ** falloff * phase, axes=(0, 1)))
    shaped = (shaped - shaped.min(axis=(0, 1))) / np.maximum(np.ptp(shaped, axis=(0, 1)), 1e-12)
    unknown = ~known
    filled = image.copy()
    filled[unknown] = histogram_match(shaped[unknown], known_pixels)
    return filled


def init_canvas(image: Image.Image, lay: Layout, falloff: float, colour_variation: float,
                seed: int) -> Image.Image:
    """The input pasted on the canvas, the rest of the processing window filled with matched noise."""
    canvas = Image.new("RGB", lay.canvas)
    canvas.paste(image.convert("RGB"), lay.offset)
    known = np.zeros((lay.canvas[1], lay.canvas[0]), dtype=bool)
    x0, y0, x1, y1 = known_box(lay)
    known[y0:y1, x0:x1] = True
    wx0, wy0, wx1, wy1 = lay.window
    window = np.asarray(canvas, dtype=np.float64)[wy0:wy1, wx0:wx1] / 255.0
    filled = matched_noise(window, known[wy0:wy1, wx0:wx1], falloff, colour_variation,
                           np.random.default_rng(seed))
    canvas.paste(Image.fromarray(np.clip(filled * 255.0 + 0.5, 0, 255).astype(np.uint8), "RGB"), (wx0, wy0))
    return canvas
