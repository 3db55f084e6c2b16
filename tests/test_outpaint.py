"""Outpainting mk2 as A1111 computes it: geometry, masks, blur kernel, matched noise, overlay, and a
real pass on the demo model.

Expected values are derived by hand from A1111's behaviour (described in engine/outpaint.py) and
written literally; the comments show the arithmetic.
"""

import numpy as np
import pytest
from PIL import Image

from atlas.core.catalogue.tables import Render
from atlas.core.record.build import build
from atlas.core.record.write import RenderInfo
from atlas.engine import outpaint as mk2
from atlas.engine.generate import Txt2ImgRequest, generate
from atlas.engine.passes import OutpaintRequest, outpaint


def source_image(seed=0, height=64, width=96) -> np.ndarray:
    """A warm-coloured, textured test picture in [0, 1]."""
    rng = np.random.default_rng(seed)
    base = np.array([0.8, 0.45, 0.2])
    texture = rng.normal(0, 0.08, (height, width, 1)) + rng.normal(0, 0.03, (height, width, 3))
    return np.clip(base + texture, 0, 1)


# --- geometry ------------------------------------------------------------------------------------

def reference_passes():
    """The reference workflow: 768x512, then 5 x (left, right) and 2 x (up, down), 128 px each.

    768 + 128 = 896 is already a multiple of 64, so every pass grows by exactly 128 and the
    canvas is the output. Window 512 (A1111's default img2img size) along the growth axis, at the
    growing edge; across it, the whole canvas."""
    rows = []
    width, height = 768, 512
    for side in ["left", "right"] * 5 + ["up", "down"] * 2:
        rows.append((side, (width, height)))
        if side in ("left", "right"):
            width += 128
        else:
            height += 128
    return rows


# (side, input, output, offset, window box): written out by hand from the rule above.
REFERENCE = [
    ("left", (768, 512), (896, 512), (128, 0), (0, 0, 512, 512)),
    ("right", (896, 512), (1024, 512), (0, 0), (512, 0, 1024, 512)),
    ("left", (1024, 512), (1152, 512), (128, 0), (0, 0, 512, 512)),
    ("right", (1152, 512), (1280, 512), (0, 0), (768, 0, 1280, 512)),
    ("left", (1280, 512), (1408, 512), (128, 0), (0, 0, 512, 512)),
    ("right", (1408, 512), (1536, 512), (0, 0), (1024, 0, 1536, 512)),
    ("left", (1536, 512), (1664, 512), (128, 0), (0, 0, 512, 512)),
    ("right", (1664, 512), (1792, 512), (0, 0), (1280, 0, 1792, 512)),
    ("left", (1792, 512), (1920, 512), (128, 0), (0, 0, 512, 512)),
    ("right", (1920, 512), (2048, 512), (0, 0), (1536, 0, 2048, 512)),
    ("up", (2048, 512), (2048, 640), (0, 128), (0, 0, 2048, 512)),
    ("down", (2048, 640), (2048, 768), (0, 0), (0, 256, 2048, 768)),
    ("up", (2048, 768), (2048, 896), (0, 128), (0, 0, 2048, 512)),
    ("down", (2048, 896), (2048, 1024), (0, 0), (0, 512, 2048, 1024)),
]


def test_reference_workflow_geometry_every_pass():
    assert [(side, size) for side, size, *_ in REFERENCE] == reference_passes()
    for side, (width, height), size, offset, window in REFERENCE:
        lay = mk2.layout(width, height, side, 128)
        assert (lay.grow, lay.size, lay.canvas, lay.offset, lay.window) == (128, size, size, offset, window)
    assert REFERENCE[-1][2] == (2048, 1024)


@pytest.mark.parametrize("side, size, black_columns, black_rows", [
    # Work mask, mask blur 8: a black rectangle with inclusive corners.
    # left:  x from 128 + 8 = 136 to the output width -> white columns 0..135 (136 px)
    ("left", (768, 512), (136, 896), (0, 512)),
    # right: x from 0 to 1024 - 128 - 8 = 888 inclusive -> white 889..1023 (135 px: one less)
    ("right", (896, 512), (0, 889), (0, 512)),
    # up:    y from 136 -> white rows 0..135
    ("up", (2048, 512), (0, 2048), (136, 640)),
    # down:  y from 0 to 768 - 136 = 632 inclusive -> white rows 633..767
    ("down", (2048, 640), (0, 2048), (0, 633)),
])
def test_work_mask_holds_the_input_inset_by_the_blur_on_the_growing_side(side, size, black_columns, black_rows):
    lay = mk2.layout(*size, side, 128)
    mask = mk2.work_mask(lay, 8)
    assert mask.shape == (lay.canvas[1], lay.canvas[0]) and mask.dtype == np.uint8
    expected = np.full(mask.shape, 255, dtype=np.uint8)
    expected[black_rows[0]:black_rows[1], black_columns[0]:black_columns[1]] = 0
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("steps, size, grow, window", [
    # The demo recipe's 16 px passes: A1111 grows each to the next multiple of 64.
    # 192 + 16 = 208 -> 256 (grow 64); window min(512, 256) = 256, i.e. the whole canvas.
    ([("left", 16)], (256, 128), 64, (0, 0, 256, 128)),
    # 256 + 16 -> 320 (grow 64)
    ([("left", 16), ("right", 16)], (320, 128), 64, (0, 0, 320, 128)),
    # ten horizontal passes: 192 + 10 x 64 = 832; the window keeps the right-most 512 columns
    ([("left", 16), ("right", 16)] * 5, (832, 128), 64, (832 - 512, 0, 832, 128)),
    # then vertical: 128 + 16 -> 192 (grow 64); window min(512, 192) = 192 rows, the canvas
    ([("left", 16), ("right", 16)] * 5 + [("up", 16)], (832, 192), 64, (0, 0, 832, 192)),
    ([("left", 16), ("right", 16)] * 5 + [("up", 16), ("down", 16)] * 2, (832, 384), 64, (0, 0, 832, 384)),
])
def test_demo_sizes_grow_to_multiples_of_64(steps, size, grow, window):
    width, height = 192, 128
    for side, pixels in steps:
        lay = mk2.layout(width, height, side, pixels)
        width, height = lay.size
    assert (lay.size, lay.grow, lay.canvas, lay.window) == (size, grow, size, window)


def test_growth_rounding_and_a_cross_axis_that_is_not_a_multiple_of_64():
    # 192x128 + 16 left: ceil((192 + 16) / 64) * 64 = 256, so A1111 grows by 64 (not 16).
    lay = mk2.layout(192, 128, "left", 16)
    assert (lay.grow, lay.size, lay.offset) == (64, (256, 128), (64, 0))
    # 96x72 grown right by 32: 128 wide; the canvas rounds 72 up to 128 rows, the output keeps 72.
    lay = mk2.layout(96, 72, "right", 32)
    assert (lay.grow, lay.size, lay.canvas, lay.window) == (32, (128, 72), (128, 128), (0, 0, 128, 128))
    # The held rectangle runs to row 72 inclusive (A1111 draws to the output height, corners
    # inclusive): rows 0..72 held where input lies, rows 73..127 of padding white.
    mask = mk2.work_mask(lay, 4)
    assert (mask[:73, :93] == 0).all() and (mask[73:, :] == 255).all() and (mask[:, 93:] == 255).all()


def test_a_window_set_like_the_img2img_width_is_capped_at_the_grown_size():
    # A1111's window is the img2img Width (horizontal) / Height (vertical) setting: 768 here.
    assert mk2.layout(768, 512, "left", 128, window=768).window == (0, 0, 768, 512)
    assert mk2.layout(1920, 1024, "right", 128, window=768).window == (2048 - 768, 0, 2048, 1024)
    assert mk2.layout(192, 128, "up", 16, window=768).window == (0, 0, 192, 192)  # 128 + 64 < 768
    with pytest.raises(ValueError, match="multiple of 8"):
        mk2.layout(192, 128, "up", 16, window=100)
    with pytest.raises(ValueError, match="side"):
        mk2.layout(192, 128, "sideways", 16)


# --- the latent mask -----------------------------------------------------------------------------

def test_latent_mask_is_a_hard_rectangle_inset_by_twice_the_blur():
    # Reference pass 1 (left, window 512x512): held from x = 128 + 2 * 8 = 144 = 18 * 8, a cell
    # edge, so bicubic averaging splits cleanly: cells 0..17 free, 18..63 held.
    lay = mk2.layout(768, 512, "left", 128)
    rect = mk2.latent_rectangle(lay, 8)
    assert rect.shape == (512, 512) and (rect[:, :144] == 255).all() and (rect[:, 144:] == 0).all()
    free = mk2.latent_free(rect)
    expected = np.zeros((64, 64), dtype=np.float32)
    expected[:, :18] = 1
    np.testing.assert_array_equal(free, expected)
    # Reference pass 2 (right, window 512..1024): held x = 0 .. 512 - 144 = 368 inclusive (window
    # coordinates), white from 369. Cell 46 covers 368..375 with one held pixel: its centre (372)
    # lies 3 px inside the white side, most of the bicubic weight is white -> free; cell 45
    # (360..367) is 5 px away on the held side -> held. Free: cells 46..63.
    lay = mk2.layout(896, 512, "right", 128)
    rect = mk2.latent_rectangle(lay, 8)
    assert (rect[:, :369] == 0).all() and (rect[:, 369:] == 255).all()
    expected = np.zeros((64, 64), dtype=np.float32)
    expected[:, 46:] = 1
    np.testing.assert_array_equal(mk2.latent_free(rect), expected)
    # A vertical pass (up, window 2048 x 512): rows 0..143 free -> latent rows 0..17.
    free = mk2.latent_free(mk2.latent_rectangle(mk2.layout(2048, 512, "up", 128), 8))
    assert free.shape == (64, 256) and (free[:18] == 1).all() and (free[18:] == 0).all()


def test_latent_mask_cell_split_mid_cell_rounds_to_the_majority():
    # Demo size, mask blur 1: 192x128 left 16 grows 64; held from 64 + 2 = 66. Cell 8 (64..71) has
    # 2 white and 6 held pixels: the bicubic value is well below half -> held. Free: cells 0..7.
    free = mk2.latent_free(mk2.latent_rectangle(mk2.layout(192, 128, "left", 16), 1))
    assert free.shape == (16, 32)
    assert (free[:, :8] == 1).all() and (free[:, 8:] == 0).all()
    assert set(np.unique(free)) == {0.0, 1.0}


# --- the mask blur -------------------------------------------------------------------------------

def test_blur_kernel_size_follows_a1111():
    # 2 * int(2.5 * sigma + 0.5) + 1, sigma = 4 x mask blur
    assert [mk2.blur_kernel_size(4 * b) for b in (1, 4, 8, 64)] == [21, 81, 161, 1281]


def test_blur_kernel_q8_values_derived_by_hand():
    # sigma 2, 7 taps (a published OpenCV value): exp(-d^2/8) for d = 3, 2, 1 is 0.32465, 0.60653,
    # 0.88250; sum with the centre 1 is 2 * 1.81368 + 1 = 4.62736, so x 256 / 4.62736 = 55.3231:
    # 17.961 -> 18 (carry -0.039); 33.555 - 0.039 = 33.516 -> 34 (carry -0.484);
    # 48.822 - 0.484 = 48.338 -> 48; centre 256 - 2 * (18 + 34 + 48) = 56.
    np.testing.assert_array_equal(mk2.gaussian_kernel_q8(7, 2.0), [18, 34, 48, 56, 48, 34, 18])
    # sigma 4 (mask blur 1), 21 taps: exp(-d^2/32) for d = 10..1 sums to 4.47069; x 256 / 9.94138
    # = 25.751 each; with the carried error: 1.1315 -> 1, 2.1803 -> 2, 3.6654 -> 4, 5.2346 -> 5,
    # 8.5947 -> 9, 11.3843 -> 11, 16.0031 -> 16, 19.4411 -> 19, 23.1663 -> 23, 25.1249 -> 25;
    # centre 256 - 2 * 115 = 26.
    np.testing.assert_array_equal(mk2.gaussian_kernel_q8(21, 4.0),
                                  [1, 2, 4, 5, 9, 11, 16, 19, 23, 25, 26, 25, 23, 19, 16, 11, 9, 5, 4, 2, 1])
    for size, sigma in ((161, 32.0), (81, 16.0)):
        taps = mk2.gaussian_kernel_q8(size, sigma)
        assert taps.sum() == 256 and np.array_equal(taps, taps[::-1])


def test_overlay_mask_values_at_chosen_pixels():
    # 192x128 + 16 left, mask blur 1: window = canvas 256x128, white columns 0..64, held from 65.
    # Blur along x only with the 21-tap kernel above: blurred(x) = (255 * C(74 - x) + 128) >> 8,
    # C(m) = the sum of the first m + 1 taps (0 below 0, 256 from 20).
    #  x = 55: C(19) = 255 -> 65153 >> 8 = 254 -> doubled 508 -> clipped 255
    #  x = 64: C(10) = 141 -> 36083 >> 8 = 140 -> 255
    #  x = 65: C(9) = 115 -> 29453 >> 8 = 115 -> 230
    #  x = 66: C(8) = 90 -> 23078 >> 8 = 90 -> 180
    #  x = 70: C(4) = 21 -> 5483 >> 8 = 21 -> 42
    #  x = 74: C(0) = 1 -> 383 >> 8 = 1 -> 2
    #  x = 75: C(-1) = 0 -> 0
    lay = mk2.layout(192, 128, "left", 16)
    work = mk2.work_mask(lay, 1)
    blurred = mk2.blurred_mask(work, 1, lay.horizontal)
    columns = [55, 64, 65, 66, 70, 74, 75]
    assert blurred[37, columns].tolist() == [254, 140, 115, 90, 21, 1, 0]
    overlay = mk2.overlay_mask(blurred)
    assert overlay[37, columns].tolist() == [255, 255, 230, 180, 42, 2, 0]
    assert (overlay == overlay[:1]).all()  # blurred along the growth axis only: rows are equal
    # A vertical pass blurs along y only: the same profile down the rows.
    lay = mk2.layout(128, 192, "up", 16)
    overlay = mk2.overlay_mask(mk2.blurred_mask(mk2.work_mask(lay, 1), 1, lay.horizontal))
    assert overlay[[55, 64, 65, 66, 70, 74, 75], 9].tolist() == [255, 255, 230, 180, 42, 2, 0]
    assert (overlay == overlay[:, :1]).all()


def test_overlay_mask_reference_size_band():
    # Reference pass 1, mask blur 8 (sigma 32, 161 taps, radius 80): white columns 0..135.
    # At x <= 135 at least half the kernel (C(80) = 128 + centre / 2) is white -> >= 128 -> 255.
    # From x = 136 + 80 = 216 on no tap reaches white -> 0. In between it falls monotonically.
    lay = mk2.layout(768, 512, "left", 128)
    overlay = mk2.overlay_mask(mk2.blurred_mask(mk2.work_mask(lay, 8)[:, :512], 8, True))
    row = overlay[100].astype(int)
    assert (row[:136] == 255).all() and (row[216:] == 0).all()
    assert (np.diff(row[130:220]) <= 0).all() and 0 < row[180] < 255


def test_gaussian_blur_reflects_at_the_border_without_repeating_the_edge():
    # One white pixel at x = 1 of a 5-pixel line, 7-tap sigma-2 kernel [18 34 48 56 48 34 18].
    # Reflect-101 reads index -1 as 1, -2 as 2, 5 as 3, 6 as 2, 7 as 1; output x sums the taps k
    # whose source x + k - 3 lands on pixel 1:
    #  x = 0: k = 2 (-1) and 4 -> 48 + 48 = 96 -> (255 * 96 + 128) >> 8 = 96
    #  x = 1: k = 1 (-1) and 3 -> 34 + 56 = 90 -> 90
    #  x = 2: k = 0 (-1) and 2 -> 18 + 48 = 66 -> 66
    #  x = 3: k = 1 -> 34
    #  x = 4: k = 0 and 6 (7) -> 18 + 18 = 36 -> 36
    # (A border that repeats the edge pixel would give 82 at x = 0.)
    line = np.array([[0, 255, 0, 0, 0]], dtype=np.uint8)
    assert mk2.gaussian_blur_u8(line, 2.0, axis=1, size=7).tolist() == [[96, 90, 66, 34, 36]]
    assert mk2.gaussian_blur_u8(line.T.copy(), 2.0, axis=0, size=7)[:, 0].tolist() == [96, 90, 66, 34, 36]
    assert mk2.reflect_101(np.array([-3, -2, -1, 0, 4, 5, 6, 9]), 5).tolist() == [3, 2, 1, 0, 4, 3, 2, 1]


# --- matched noise -------------------------------------------------------------------------------

def test_uniform_noise_is_pcg64_seeded_0_mixed_with_its_grey():
    # A1111 draws default_rng(0).random((H, W, 3)) on every call; with colour variation 0 every
    # channel is the grey mean (r + g + b) / 3, with 1 the raw draw.
    raw = np.random.Generator(np.random.PCG64(0)).random((4, 6, 3))
    grey = np.sum(raw, axis=2) / 3.0
    noise = mk2.uniform_noise(4, 6, 0.0)
    for c in range(3):
        np.testing.assert_array_equal(noise[..., c], grey)
    np.testing.assert_array_equal(mk2.uniform_noise(4, 6, 1.0), raw)
    mixed = mk2.uniform_noise(4, 6, 0.25)
    np.testing.assert_allclose(mixed, raw * 0.25 + 0.75 * grey[..., None], rtol=0, atol=1e-15)


def test_noise_window_values():
    # 4 x 8 (rows x columns): shorter side 4; rows y = (i/4 * 2 - 1) * 1 -> -1, -0.5, 0, 0.5;
    # columns x = (j/8 * 2 - 1) * 2 -> -2, -1.5, ..., 1.5. w = 1 / ((y^2 + 1)(x^2 + 1)).
    window = mk2.noise_window(4, 8)
    assert window.shape == (4, 8)
    assert window[2, 4] == 1.0  # y = 0, x = 0
    assert window[0, 0] == pytest.approx(1 / (2 * 5))  # y = -1, x = -2
    assert window[1, 6] == pytest.approx(1 / (1.25 * 2))  # y = -0.5, x = 1


def test_histogram_match_maps_by_cumulative_share():
    # values 0.1, 0.2, 0.3, 0.4 (shares 1/4 .. 1) onto reference 0, 10 (shares 1/2, 1):
    # interp(0.25) = 0 (below the first share), 0.5 -> 0, 0.75 -> 5, 1 -> 10.
    values = np.array([[0.3], [0.1], [0.4], [0.2]])
    reference = np.array([[10.0], [0.0]])
    assert mk2.histogram_match(values, reference)[:, 0].tolist() == [5.0, 0.0, 10.0, 0.0]


def test_matched_noise_is_deterministic_seedless_and_keeps_known_pixels():
    image = source_image()
    mask = np.zeros(image.shape[:2])
    mask[:, :32] = 1.0  # the left 32 columns are to be made
    state = np.random.get_state()
    first = mk2.matched_noise(image.copy(), mask, 1.8, 0.03)
    second = mk2.matched_noise(image.copy(), mask, 1.8, 0.03)
    np.testing.assert_array_equal(first, second)  # no seed, no global RNG: the same noise each time
    assert all(np.array_equal(a, b) for a, b in zip(np.random.get_state(), state, strict=True)
               if isinstance(a, np.ndarray))
    known = mask == 0
    np.testing.assert_array_equal(first[known], image[known])  # untouched
    noise, source = first[~known], image[known]
    for c in range(3):  # the histogram of the known pixels, channel by channel
        quantiles = np.linspace(0.05, 0.95, 10)
        np.testing.assert_allclose(np.quantile(noise[:, c], quantiles), np.quantile(source[:, c], quantiles),
                                   atol=0.01)
    # Plain uniform noise would not pass that check: the test can fail.
    uniform = np.random.default_rng(0).random(noise.shape)
    assert np.abs(uniform.mean(axis=0) - source.mean(axis=0)).max() > 0.1


def test_init_canvas_noise_replaces_the_inset_columns_and_keeps_the_rest():
    # 96x64 + 32 right, mask blur 4: white from x = 128 - 32 - 4 + 1 = 93, so input columns
    # 93..95 are replaced by noise, as in A1111; columns 0..92 keep the input exactly.
    image = Image.fromarray((source_image() * 255).astype(np.uint8))
    lay = mk2.layout(96, 64, "right", 32)
    work = mk2.work_mask(lay, 4)
    canvas = np.asarray(mk2.init_canvas(image, lay, work, 1.8, 0.03))
    original = np.asarray(image)
    np.testing.assert_array_equal(canvas[:, :93], original[:, :93])
    assert not np.array_equal(canvas[:, 93:96], original[:, 93:96])
    assert canvas.shape == (64, 128, 3) and canvas[:, 96:].std() > 0
    again = np.asarray(mk2.init_canvas(image, lay, work, 1.8, 0.03))
    np.testing.assert_array_equal(canvas, again)


# --- the overlay ---------------------------------------------------------------------------------

def test_composite_follows_pillows_premultiplied_arithmetic():
    # init 200, decoded 40. Overlay mask 127 -> alpha a = 255 - 127 = 128.
    # premultiply: (200 * 128 + 128 + ((200 * 128 + 128) >> 8)) >> 8 = (25728 + 100) >> 8 = 100
    # un-premultiply: 255 * 100 // 128 = 199
    # composite (coef1 = 128 * 128, coef2 = 127 * 128): 199 * 16384 + 40 * 16256 + 16384 = 3927040;
    # (3927040 + (3927040 >> 8)) >> 8 = 15399; >> 7 = 120.
    init = Image.new("RGB", (3, 1), (200, 200, 200))
    made = Image.new("RGB", (3, 1), (40, 40, 40))
    out = np.asarray(mk2.composite(made, init, np.array([[0, 127, 255]], dtype=np.uint8)))
    assert out[0, :, 0].tolist() == [200, 120, 40]  # 0: the init exactly; 255: the decoded image


def test_finish_pastes_the_window_on_the_canvas_and_crops():
    lay = mk2.layout(96, 72, "right", 32)  # canvas 128x128, output 128x72
    canvas = Image.new("RGB", lay.canvas, (10, 20, 30))
    window = Image.new("RGB", lay.window_size, (1, 2, 3))
    out = mk2.finish(canvas, window, lay)
    assert out.size == (128, 72) and out.getpixel((0, 0)) == (1, 2, 3)
    lay = mk2.layout(1920, 1024, "right", 128)  # window 512 wide: columns 0..1535 stay the canvas
    out = mk2.finish(Image.new("RGB", lay.canvas, (10, 20, 30)), Image.new("RGB", lay.window_size, (1, 2, 3)), lay)
    assert out.getpixel((1535, 5)) == (10, 20, 30) and out.getpixel((1536, 5)) == (1, 2, 3)


# --- a real pass ---------------------------------------------------------------------------------

def test_outpaint_pass_keeps_the_known_area_and_records_every_setting(demo_catalogue):
    source = generate(demo_catalogue, Txt2ImgRequest(prompt="harbour", steps=2, width=96, height=64, seed=3),
                      RenderInfo())
    request = OutpaintRequest(side="right", pixels=32, steps=4, denoise=0.8, mask_blur=4, falloff=1.8,
                              colour_variation=0.03, seed=11)
    render = outpaint(demo_catalogue, source.id, request, RenderInfo())
    assert (render.width, render.height) == (128, 64)
    before = np.asarray(Image.open(demo_catalogue.store.path_of(source.store_path)).convert("RGB"))
    after = np.asarray(Image.open(demo_catalogue.store.path_of(render.store_path)).convert("RGB"))
    # Held rectangle x 0..92 (128 - 32 - 4), blur sigma 16 with 81 taps (radius 40): from x = 52
    # leftwards no tap reaches the white band, the overlay is opaque and the input comes back exact.
    np.testing.assert_array_equal(after[:, :53], before[:, :53])
    assert not np.array_equal(after[:, 96:], np.zeros_like(after[:, 96:]))
    with demo_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    step = record["lineage"][-1]
    assert step["kind"] == "outpaint" and step["input"]["sha256"] == source.sha256
    assert step["settings"] == {"script": "Outpainting mk2", "side": "right", "pixels": 32, "mask_blur": 4,
                                "falloff": 1.8, "colour_variation": 0.03,
                                "schedule_type": "Uniform", "rng": "CPU"}  # what it sampled with, how it drew noise
    assert (step["steps"], step["steps_run"], step["denoise"], step["seed"]) == (4, 4, 0.8, 11)
    assert step["prompt"] == "harbour" and step["sampler"] == "Euler a"  # inherited from the lineage
    assert (step["width"], step["height"]) == (128, 64)  # the processing window
    # Same seed, same input: the same picture.
    again = outpaint(demo_catalogue, source.id, request, RenderInfo())
    np.testing.assert_array_equal(
        np.asarray(Image.open(demo_catalogue.store.path_of(again.store_path))), after)


def test_outpaint_command_refuses_bad_values_before_work(demo_catalogue, cli):
    source = generate(demo_catalogue, Txt2ImgRequest(prompt="x", steps=1, width=64, height=64, seed=1), RenderInfo())
    result = cli("outpaint", source.id, "--side", "left", "--pixels", "12")
    assert result.code == 2 and "multiple of 8" in result.err
    result = cli("outpaint", source.id, "--side", "sideways")
    assert result.code == 2
    result = cli("outpaint", source.id, "--side", "up", "--pixels", "8", "--steps", "2", "--seed", "4", "--json")
    assert result.code == 0, result.err
    record = result.json()["record"]
    assert [p["kind"] for p in record["lineage"]] == ["txt2img", "outpaint"]
    # 64 + 8 = 72 rows asked; A1111 grows to the next multiple of 64: 128.
    assert (record["render"]["width"], record["render"]["height"]) == (64, 128)


def test_a_blur_wider_than_the_input_holds_nothing_instead_of_failing():
    # 64x64 + 8 left grows 64; mask blur 100 puts the held rectangle's left edge at 164, beyond
    # the 128-wide canvas: everything is work, and the latent mask frees every cell.
    lay = mk2.layout(64, 64, "left", 8)
    mask = mk2.work_mask(lay, 100)
    assert mask.shape == (64, 128) and (mask == 255).all()
    assert (mk2.latent_free(mk2.latent_rectangle(lay, 100)) == 1).all()
    overlay = mk2.overlay_mask(mk2.blurred_mask(mask, 100, True))
    assert (overlay == 255).all()
