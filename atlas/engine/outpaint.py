"""Outpainting mk2 as AUTOMATIC1111's web UI computes it (restated from its behaviour; no A1111 code).

One pass grows the image on one side. The steps, each a pure function here:

1. `layout`: the expansion is rounded up so the grown side is a multiple of 64 (A1111 asks for
   `pixels` but grows to the next multiple of 64: 192 + 16 gives 256). The canvas is the grown
   size with the other side rounded up to 64 too; the input sits on the kept side.
2. `work_mask`: on the whole canvas, white (255, "to make") except a black rectangle over the
   input inset by `mask_blur` on the growing side (PIL rectangle: both corners inclusive).
3. `matched_noise` fills the white part of the canvas (`init_canvas`).
4. The processing window: along the growth axis `window` pixels (A1111's img2img Width for a
   horizontal pass, Height for a vertical one) at the growing edge, capped at the grown size;
   across it, the whole canvas. Only the window is encoded, sampled and decoded.
5. `blurred_mask`: the window's part of the work mask, blurred along the growth axis only with
   sigma 4 x `mask_blur` (OpenCV's 8-bit fixed-point Gaussian, reproduced in `gaussian_blur_u8`);
   `overlay_mask` doubles and clips it. The overlay puts the init window back over the decoded
   image wherever that mask is below 255 (`composite`).
6. `latent_rectangle` / `latent_free`: the sampler's mask is a separate hard rectangle, inset by
   twice `mask_blur`, brought to latent size with Pillow's bicubic resize and rounded to 0/1.
7. `finish`: the composited window pasted back on the noised canvas, cropped to the grown size.
"""

from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDES = ("left", "right", "up", "down")
# A1111's default img2img size (512x512): the window's extent along the growth axis.
WINDOW = 512
# A1111's mk2 sets the inpainting mask blur to four times the slider value.
BLUR_SCALE = 4


def ceil64(value: int) -> int:
    return -(-value // 64) * 64


@dataclass(frozen=True)
class Layout:
    side: str
    pixels: int  # as requested
    grow: int  # as A1111 grows: up to the next multiple of 64 on the growth axis
    input_size: tuple[int, int]
    size: tuple[int, int]  # the output: input + grow on one side
    canvas: tuple[int, int]  # the output with both sides rounded up to multiples of 64
    offset: tuple[int, int]  # where the input sits on the canvas
    window: tuple[int, int, int, int]  # the processing window (box on the canvas)

    @property
    def horizontal(self) -> bool:
        return self.side in ("left", "right")

    @property
    def window_size(self) -> tuple[int, int]:
        x0, y0, x1, y1 = self.window
        return x1 - x0, y1 - y0


def layout(width: int, height: int, side: str, pixels: int, window: int = WINDOW) -> Layout:
    if side not in SIDES:
        raise ValueError(f"side must be one of {', '.join(SIDES)}, not {side!r}")
    if window < 8 or window % 8:
        raise ValueError(f"the processing window must be a positive multiple of 8, got {window}")
    horizontal = side in ("left", "right")
    along = width if horizontal else height
    grow = ceil64(along + pixels) - along
    out_w, out_h = (width + grow, height) if horizontal else (width, height + grow)
    canvas_w, canvas_h = ceil64(out_w), ceil64(out_h)
    offset = {"left": (grow, 0), "up": (0, grow)}.get(side, (0, 0))
    if horizontal:
        span = min(window, out_w)
        box = (0, 0, span, canvas_h) if side == "left" else (canvas_w - span, 0, canvas_w, canvas_h)
    else:
        span = min(window, out_h)
        box = (0, 0, canvas_w, span) if side == "up" else (0, canvas_h - span, canvas_w, canvas_h)
    return Layout(side, pixels, grow, (width, height), (out_w, out_h), (canvas_w, canvas_h), offset, box)


def _held_rectangle(shape: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """255 everywhere but the box (x0, y0, x1, y1), corners inclusive as PIL draws it, which is 0."""
    height, width = shape
    mask = np.full((height, width), 255, dtype=np.uint8)
    x0, y0, x1, y1 = box
    mask[max(y0, 0):max(y1 + 1, 0), max(x0, 0):max(x1 + 1, 0)] = 0
    return mask


def work_mask(lay: Layout, mask_blur: int) -> np.ndarray:
    """Canvas-size mask, 255 where the model works and matched noise goes, 0 over the held input.

    The held rectangle is inset by `mask_blur` on the growing side only. A1111 measures a right or
    bottom inset from the canvas edge and includes the rectangle's far corner, so the white band
    there is one pixel narrower (grow + mask_blur - 1) than on the left or top; we follow it."""
    canvas_w, canvas_h = lay.canvas
    out_w, out_h = lay.size
    side, grow = lay.side, lay.grow
    box = (grow + mask_blur if side == "left" else 0,
           grow + mask_blur if side == "up" else 0,
           canvas_w - grow - mask_blur if side == "right" else out_w,
           canvas_h - grow - mask_blur if side == "down" else out_h)
    return _held_rectangle((canvas_h, canvas_w), box)


def latent_rectangle(lay: Layout, mask_blur: int) -> np.ndarray:
    """Window-size mask for the sampler (255 free, 0 held): the held rectangle inset by twice
    `mask_blur`, in window coordinates. As in A1111 the far corner across the growth axis is the
    output's size (not the window's), and a right/bottom inset is measured from the window's edge."""
    win_w, win_h = lay.window_size
    out_w, out_h = lay.size
    side, inset = lay.side, lay.grow + 2 * mask_blur
    box = (inset if side == "left" else 0,
           inset if side == "up" else 0,
           win_w - inset if side == "right" else out_w,
           win_h - inset if side == "down" else out_h)
    return _held_rectangle((win_h, win_w), box)


def latent_free(rectangle: np.ndarray) -> np.ndarray:
    """The sampler's mask at latent size (1/8): 1 where the model may change latents, 0 where held.

    Pillow's default (bicubic) resize of the RGB mask, channel 0 / 255, rounded half to even as
    numpy rounds: only 0 and 1 remain."""
    height, width = rectangle.shape
    small = Image.fromarray(rectangle, "L").convert("RGB").resize((width // 8, height // 8),
                                                                  Image.Resampling.BICUBIC)
    return np.around(np.asarray(small, dtype=np.float32)[..., 0] / 255)


# --- the mask blur: OpenCV's 8-bit Gaussian ------------------------------------------------------

def blur_kernel_size(sigma: float) -> int:
    """The kernel size A1111 asks for: 2 * int(2.5 * sigma + 0.5) + 1 taps."""
    return 2 * int(2.5 * sigma + 0.5) + 1


def gaussian_kernel_q8(size: int, sigma: float) -> np.ndarray:
    """OpenCV's fixed-point Gaussian kernel for 8-bit images: `size` integer taps summing to 256.

    Taps exp(-d^2 / (2 sigma^2)) normalised to sum 1 (the centre counted as exactly 1), scaled
    by 256 and rounded half to even from the outside in, each tap's rounding error carried into
    the next; the mirror half takes the same values and the centre takes what is left of 256."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be odd and positive, got {size}")
    half = size // 2
    distance = np.arange(-half, 0, dtype=np.float64)  # the outer taps up to the centre
    outer = np.exp(distance * distance * (-0.5 / (sigma * sigma))) if sigma > 0 else np.zeros(half)
    total = 0.0
    for value in outer:  # summed in order, as OpenCV does (numpy's pairwise sum rounds differently)
        total += float(value)
    scale = 1.0 / (total * 2 + 1.0)
    taps = np.empty(size, dtype=np.int64)
    carried = 0.0
    for i, value in enumerate(outer):
        wanted = value * scale * 256.0 + carried
        rounded = int(np.rint(wanted))
        carried = wanted - rounded
        taps[i] = taps[size - 1 - i] = rounded
    taps[half] = 256 - 2 * int(taps[:half].sum())
    return taps


def reflect_101(index: np.ndarray, length: int) -> np.ndarray:
    """OpenCV's default border (reflect without repeating the edge: ...2 1 | 0 1 2 ... n-1 | n-2...),
    folded as often as needed for kernels wider than the image."""
    if length == 1:
        return np.zeros_like(index)
    period = 2 * (length - 1)
    folded = np.mod(index, period)
    return np.where(folded < length, folded, period - folded)


def gaussian_blur_u8(image: np.ndarray, sigma: float, axis: int, size: int | None = None) -> np.ndarray:
    """cv2.GaussianBlur of a uint8 2-D array along one axis (1: x, a (k, 1) kernel; 0: y), with
    A1111's kernel size unless `size` is given: integer sums of Q8 taps, then (sum + 128) >> 8."""
    size = blur_kernel_size(sigma) if size is None else size
    if image.shape[axis] == 1 or size == 1:
        return image.copy()
    taps = gaussian_kernel_q8(size, sigma)
    lines = np.moveaxis(image, axis, -1).reshape(-1, image.shape[axis])
    # A line equal to the one before it blurs the same: a mask has only a few distinct runs.
    new_run = np.concatenate([[True], np.any(lines[1:] != lines[:-1], axis=1)])
    distinct, run_of = lines[new_run], np.cumsum(new_run) - 1
    length, half = lines.shape[1], size // 2
    padded = distinct[:, reflect_101(np.arange(-half, length + half), length)].astype(np.int64)
    total = np.zeros(distinct.shape, dtype=np.int64)
    for k in np.flatnonzero(taps):
        total += taps[k] * padded[:, k:k + length]
    blurred = ((total + 128) >> 8).astype(np.uint8)[run_of]
    shape = np.moveaxis(image, axis, -1).shape
    return np.ascontiguousarray(np.moveaxis(blurred.reshape(shape), -1, axis))


def blurred_mask(mask: np.ndarray, mask_blur: int, horizontal: bool) -> np.ndarray:
    """The window's work mask blurred along the growth axis only, sigma BLUR_SCALE x mask_blur."""
    if mask_blur <= 0:
        return mask.copy()
    return gaussian_blur_u8(mask, BLUR_SCALE * mask_blur, axis=1 if horizontal else 0)


def overlay_mask(blurred: np.ndarray) -> np.ndarray:
    """A1111's mask for the overlay: the blurred mask doubled and clipped to 255."""
    return np.clip(blurred.astype(np.float32) * 2, 0, 255).astype(np.uint8)


# --- matched noise -------------------------------------------------------------------------------

def _centred_fft(channel: np.ndarray) -> np.ndarray:
    return np.fft.ifftshift(np.fft.fft2(np.fft.fftshift(channel), norm="ortho"))


def _centred_ifft(channel: np.ndarray) -> np.ndarray:
    return np.fft.ifftshift(np.fft.ifft2(np.fft.fftshift(channel), norm="ortho"))


def _per_channel(transform, data: np.ndarray) -> np.ndarray:
    out = np.zeros(data.shape, dtype=np.complex128)
    for c in range(data.shape[2]):
        out[:, :, c] = transform(data[:, :, c])
    return out


def noise_window(height: int, width: int) -> np.ndarray:
    """The low-pass weight on the centred noise spectrum: 1 / ((x^2 + 1) (y^2 + 1)), x and y running
    from -1 to 1 over the shorter side (further over the longer one)."""
    short = min(height, width)
    ys = (np.arange(height) / height * 2.0 - 1.0) * (height / short)
    xs = (np.arange(width) / width * 2.0 - 1.0) * (width / short)
    return 1.0 / ((ys[:, None] ** 2 + 1.0) * (xs[None, :] ** 2 + 1.0))


def histogram_match(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Map `values` (N x C) onto the distribution of `reference` (M x C), per channel, the way
    scikit-image's match_histograms does: each distinct value goes to the reference value at the
    same cumulative share, linearly interpolated between the reference's distinct values."""
    out = np.empty(values.shape, dtype=np.float64)
    for c in range(values.shape[1]):
        _, where, counts = np.unique(values[:, c], return_inverse=True, return_counts=True)
        ref_distinct, ref_counts = np.unique(reference[:, c], return_counts=True)
        share = np.cumsum(counts) / values.shape[0]
        ref_share = np.cumsum(ref_counts) / reference.shape[0]
        out[:, c] = np.interp(share, ref_share, ref_distinct)[where.reshape(-1)]
    return out


def uniform_noise(height: int, width: int, colour_variation: float) -> np.ndarray:
    """HxWx3 uniform noise, per-channel colour mixed with its grey mean in the ratio colour_variation.

    A1111 quirk we follow: the generator is numpy's PCG64 seeded with 0 on every call, so the
    noise depends on the canvas size only, never on the pass's seed."""
    noise = np.random.default_rng(0).random((height, width, 3))
    grey = np.sum(noise, axis=2) / 3.0
    noise *= colour_variation
    for c in range(3):
        noise[:, :, c] += (1.0 - colour_variation) * grey
    return noise


def matched_noise(image: np.ndarray, mask: np.ndarray, falloff: float, colour_variation: float) -> np.ndarray:
    """`image` (HxWx3 floats in [0, 1]) with the area where `mask` (HxW in [0, 1]) is 1 filled with
    noise that matches the rest; deterministic, with no seed (see `uniform_noise`).

    The source spectrum comes from the image with the unknown area blacked out, scaled so its
    brightest value is 1, and then filled with the mean of the whole image (every pixel and
    channel, the still-black new strip included). The noise is low-passed by `noise_window`,
    then its magnitude spectrum is squared and multiplied by the source's magnitude raised to
    `falloff` and by the source's phase. Back in image space it is stretched to [0, 1] and
    histogram-matched, per channel, to the known pixels."""
    height, width, _ = image.shape
    weight = mask[:, :, None] * np.ones(3)
    unknown, known = mask > 1e-6, mask < 1e-3
    source = image * (1.0 - weight)
    peak = np.max(source)
    if peak > 0:  # an all-black input would divide by zero (NaN noise) in A1111
        source /= peak
    source += np.mean(image) * weight
    spectrum = _per_channel(_centred_fft, source)
    magnitude = np.absolute(spectrum)
    phase = np.divide(spectrum, magnitude, out=np.zeros_like(spectrum), where=magnitude > 0)

    noise_spectrum = _per_channel(_centred_fft, uniform_noise(height, width, colour_variation))
    noise_spectrum *= noise_window(height, width)[:, :, None]
    noise = np.real(_per_channel(_centred_ifft, noise_spectrum))
    shaped = np.absolute(_per_channel(_centred_fft, noise)) ** 2 * (magnitude ** falloff) * phase
    shaped_noise = np.real(_per_channel(_centred_ifft, shaped))
    shaped_noise -= np.min(shaped_noise)
    shaped_noise /= np.max(shaped_noise)
    if unknown.any() and known.any():
        shaped_noise[unknown, :] = histogram_match(shaped_noise[unknown, :], image[known, :])
    return np.clip(image * (1.0 - weight) + shaped_noise * weight, 0.0, 1.0)


def init_canvas(image: Image.Image, lay: Layout, work: np.ndarray, falloff: float,
                colour_variation: float) -> Image.Image:
    """The whole canvas: the input pasted on black, the work mask's white area filled with matched
    noise (values truncated to 8 bits, as A1111 stores them)."""
    canvas = Image.new("RGB", lay.canvas)
    canvas.paste(image.convert("RGB"), lay.offset)
    pixels = np.asarray(canvas) / 255.0
    filled = matched_noise(pixels, work / 255.0, falloff, colour_variation)
    return Image.fromarray(np.clip(filled * 255.0, 0.0, 255.0).astype(np.uint8), "RGB")


# --- putting the result together -----------------------------------------------------------------

def composite(made: Image.Image, init: Image.Image, overlay: np.ndarray) -> Image.Image:
    """The decoded window with the init window laid over it, opaque where `overlay` is 0 and
    transparent where it is 255, with Pillow's 8-bit arithmetic: the init premultiplied by the
    inverted mask, un-premultiplied, then alpha-composited over the decoded image."""
    layer = Image.new("RGBa", init.size)
    layer.paste(init.convert("RGBA").convert("RGBa"), mask=Image.fromarray(255 - overlay, "L"))
    out = made.convert("RGBA")
    out.alpha_composite(layer.convert("RGBA"))
    return out.convert("RGB")


def finish(canvas: Image.Image, window_result: Image.Image, lay: Layout) -> Image.Image:
    """The composited window pasted on the noised canvas, cropped to the grown size."""
    out = canvas.copy()
    out.paste(window_result, lay.window[:2])
    return out.crop((0, 0, *lay.size))
