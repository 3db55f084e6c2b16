"""SD upscale's tile grid, seeds and blending against values derived by hand from A1111's algorithm.

A1111's algorithm (modules/images.py split_grid/combine_grid, scripts/sd_upscale.py), per axis:
  n = ceil((L - overlap) / (T - overlap)); start_i = int(i * (L - T) / (n - 1)), moved to L - T
  when start_i + T >= L. Combining: a tile at 0 is pasted; any other tile blends its first `overlap`
  pixels over what is there with weight w_i = int(i * 255 / overlap) (8-bit, PIL paste with an "L"
  mask: out = (old * (255 - w) + new * w) / 255 rounded) and pastes the rest; rows likewise along y.
Seeds: batch b (of size B) starts at seed + b; its item j takes seed + b + j.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from atlas.engine import tiles


def xs_ys(g):
    return [t.x for t in g.rows[0]], [row[0].y for row in g.rows]


def test_reference_first_pass_grid_512_tiles_overlap_128():
    # 2048x1024 x2 -> 4096x2048, 512 px tiles (the reference recipe), overlap 128.
    # x: n = ceil((4096-128)/384) = ceil(10.33) = 11, step (4096-512)/10 = 358.4,
    #    int(k * 358.4) = 0, 358, 716 (716.8), 1075 (1075.2), 1433 (1433.6), 1792, 2150 (2150.4),
    #    2508 (2508.8), 2867 (2867.2), 3225 (3225.6), 3584 (3584 + 512 >= 4096: 4096-512 = 3584).
    #    Rounding (atlas before) gave 717, 1434, 2151, 2509, 3226: the +-1 px.
    # y: n = ceil((2048-128)/384) = 5, step (2048-512)/4 = 384: 0, 384, 768, 1152, 1536.
    g = tiles.grid(4096, 2048, 512, 512, 128)
    assert xs_ys(g) == ([0, 358, 716, 1075, 1433, 1792, 2150, 2508, 2867, 3225, 3584],
                        [0, 384, 768, 1152, 1536])
    assert len(g.tiles) == 55 and g.tiles[12].box == (358, 384, 870, 896)  # row 1, column 1
    assert g.tiles[-1].box == (3584, 1536, 4096, 2048)


def test_reference_first_pass_grid_768x512_tiles_overlap_128():
    # A1111 tiles at its width x height sliders; the reference's txt2img size was 768x512.
    # x: n = ceil((4096-128)/(768-128)) = ceil(6.2) = 7, step (4096-768)/6 = 554.67:
    #    0, 554 (554.67), 1109 (1109.33), 1664, 2218 (2218.67), 2773 (2773.33), 3328 (-> 4096-768 = 3328).
    # y: as with 512 tiles: 0, 384, 768, 1152, 1536.
    g = tiles.grid(4096, 2048, 768, 512, 128)
    assert xs_ys(g) == ([0, 554, 1109, 1664, 2218, 2773, 3328], [0, 384, 768, 1152, 1536])
    assert len(g.tiles) == 35 and g.tiles[8].box == (554, 384, 1322, 896)


def test_reference_second_pass_grids_overlap_256():
    # 4096x2048 x2 -> 8192x4096, overlap 256.
    # 512 tiles: x n = ceil(7936/256) = 31, step 7680/30 = 256 (0, 256, ..., 7680);
    #            y n = ceil(3840/256) = 15, step 3584/14 = 256 (0, ..., 3584).  31 x 15 = 465 tiles.
    g = tiles.grid(8192, 4096, 512, 512, 256)
    assert xs_ys(g) == ([256 * k for k in range(31)], [256 * k for k in range(15)])
    assert len(g.tiles) == 465
    # 768x512 tiles: x n = ceil(7936/512) = ceil(15.5) = 16, step (8192-768)/15 = 494.93:
    #   int(k * 7424 / 15) = 0, 494, 989, 1484 (1484.8), 1979, 2474, 2969 (2969.6), 3464, 3959,
    #   4454 (4454.4), 4949, 5444, 5939 (5939.2), 6434, 6929, 7424.
    g = tiles.grid(8192, 4096, 768, 512, 256)
    assert xs_ys(g)[0] == [0, 494, 989, 1484, 1979, 2474, 2969, 3464, 3959, 4454, 4949, 5444, 5939, 6434,
                           6929, 7424]
    assert len(g.tiles) == 16 * 15


def test_demo_grids():
    # demo recipe: 352x192 -> 704x384, tile 256, overlap 32:
    #   x n = ceil(672/224) = 3, step 448/2 = 224: 0, 224, 448; y n = ceil(352/224) = 2, step 128: 0, 128.
    assert xs_ys(tiles.grid(704, 384, 256, 256, 32)) == ([0, 224, 448], [0, 128])
    # then 1408x768, overlap 64: x n = ceil(1344/192) = 7, step 1152/6 = 192: 0, 192, ..., 1152;
    #   y n = ceil(704/192) = ceil(3.67) = 4, step 512/3 = 170.67: 0, 170, 341, 512 (rounding gave 171).
    assert xs_ys(tiles.grid(1408, 768, 256, 256, 64)) == ([0, 192, 384, 576, 768, 960, 1152], [0, 170, 341, 512])


def test_truncation_can_leave_the_last_column_uncovered_as_in_a1111():
    # 616 px, tile 128, overlap 48: n = ceil(568/80) = ceil(7.1) = 8, step 488/7 = 69.714...;
    # int(k * step) = 0, 69, 139, 209, 278, 348, 418, and 7 * (488/7) is 487.99999999999994 in
    # binary floating point, so 487: 487 + 128 = 615 < 616 is not moved, and column 615 has no tile.
    assert tiles.starts(616, 128, 48) == [0, 69, 139, 209, 278, 348, 418, 487]
    g = tiles.grid(616, 128, 128, 128, 48)
    out = tiles.combine(g, [np.full((128, 128, 3), 90, np.uint8)] * len(g.tiles))
    assert (out[:, 614] == 90).all() and (out[:, 615] == 0).all()


def test_an_image_smaller_than_the_tile():
    # 200x120, tile 256, overlap 64: x n = ceil(136/192) = 1, start 0 + 256 >= 200 -> 200-256 = -56;
    # y n = ceil(56/192) = 1 -> 120-256 = -136. One tile, cut from beyond the top-left corner.
    g = tiles.grid(200, 120, 256, 256, 64)
    assert [t.box for t in g.tiles] == [(-56, -136, 200, 120)]
    # Tile pixel (ty, tx) holds (ty, tx, 200). x = -56 is not 0, so its first 64 columns are blended
    # over the black row at -56..7: image columns 0..7 take tile columns 56..63 with weights
    # int(i * 255/64) = 223, 227, 231, 235, 239, 243, 247, 251 over black; columns 8.. paste tile
    # columns 64... y = -136: the first 64 strip rows land above the image; image row r is tile row r + 136.
    ty, tx = np.mgrid[0:256, 0:256]
    tile = np.stack([ty, tx, np.full_like(ty, 200)], axis=-1).astype(np.uint8)
    out = tiles.combine(g, [tile])
    assert out.shape == (120, 200, 3)
    np.testing.assert_array_equal(out[5, 8:], tile[141, 64:])
    # channel 2 (200 everywhere): 200 * 223 / 255 = 174.9 -> 175; 200 * 251 / 255 = 196.9 -> 197
    assert out[0, 0, 2] == 175 and out[0, 7, 2] == 197 and out[0, 8, 2] == 200
    # channel 1 at column 0 is tile column 56 weighted 223: 56 * 223 / 255 = 48.97 -> 49
    assert out[3, 0, 1] == 49


def test_ramp_weights():
    # int(i * 255 / overlap): overlap 128: i=1 -> 1 (1.99), 64 -> 127 (127.5), 127 -> 253 (253.01);
    # overlap 256: i=1 -> 0 (0.996), 128 -> 127 (127.5), 255 -> 254 (254.004); overlap 32: 16 -> 127.
    r = tiles.ramp(128)
    assert (r[0], r[1], r[64], r[127], len(r)) == (0, 1, 127, 253, 128)
    r = tiles.ramp(256)
    assert (r[0], r[1], r[128], r[255]) == (0, 0, 127, 254)
    assert tiles.ramp(32)[16] == 127 and len(tiles.ramp(0)) == 0


def test_blending_over_the_nominal_overlap_only():
    # 400x400, tile 256, overlap 64: n = ceil(336/192) = 2 per axis, step 144: tiles at 0 and 144,
    # an actual overlap of 112 of which only the first 64 px (144..207) blend; 208..255 paste tile 2.
    g = tiles.grid(400, 400, 256, 256, 64)
    assert xs_ys(g) == ([0, 144], [0, 144])
    a, b, c, d = 40, 240, 0, 100  # top-left, top-right, bottom-left, bottom-right tile values
    out = tiles.combine(g, [np.full((256, 256, 3), v, np.uint8) for v in (a, b, c, d)])[..., 0]
    # Top rows (y < 144): column 143 = a; 144 weight 0 = a; 145 weight 3: (40*252 + 240*3)/255
    # = 42.35 -> 42; 176 weight 127: (40*128 + 240*127)/255 = 139.6 -> 140; 207 weight 251:
    # (40*4 + 240*251)/255 = 236.9 -> 237; 208 pasted = b.
    assert list(out[10, [143, 144, 145, 176, 207, 208, 255, 399]]) == [40, 40, 42, 140, 237, 240, 240, 240]
    # Column 10 down the rows: 144 = a (weight 0), 176: (40*128 + 0*127)/255 = 20.08 -> 20, 208.. = c.
    assert list(out[[143, 144, 176, 208, 399], 10]) == [40, 40, 20, 0, 0]
    # (176, 176): top strip there is 140, bottom strip (0*128 + 100*127)/255 = 49.8 -> 50,
    # then (140*128 + 50*127)/255 = 95.2 -> 95.
    assert out[176, 176] == 95
    # y >= 208 is the bottom strip pasted: (300, 300) = d; (300, 150) is inside the strip's own blend,
    # i = 6, weight int(6 * 255/64) = 23: (0*232 + 100*23)/255 = 9.02 -> 9.
    assert out[300, 300] == d and out[300, 150] == 9


def pil_combine(g, pixels):
    """The documented combine done with PIL's own paste, as an independent reference."""
    ramp_w = Image.fromarray(np.tile(tiles.ramp(g.overlap)[None, :], (g.tile_height, 1)), "L")
    ramp_h = Image.fromarray(np.tile(tiles.ramp(g.overlap)[:, None], (1, g.width)), "L")
    out = Image.new("RGB", (g.width, g.height))
    for row in g.rows:
        strip = Image.new("RGB", (g.width, g.tile_height))
        for t in row:
            im = Image.fromarray(pixels[t.index])
            if t.x == 0:
                strip.paste(im, (0, 0))
            else:
                strip.paste(im.crop((0, 0, g.overlap, t.height)), (t.x, 0), ramp_w)
                strip.paste(im.crop((g.overlap, 0, t.width, t.height)), (t.x + g.overlap, 0))
        y = row[0].y
        if y == 0:
            out.paste(strip, (0, 0))
        else:
            out.paste(strip.crop((0, 0, g.width, g.overlap)), (0, y), ramp_h)
            out.paste(strip.crop((0, g.overlap, g.width, g.tile_height)), (0, y + g.overlap))
    return np.asarray(out)


@settings(max_examples=40, deadline=None)
@given(width=st.integers(40, 300), height=st.integers(40, 300), tile_w=st.sampled_from([64, 96, 128]),
       tile_h=st.sampled_from([64, 128]), overlap=st.sampled_from([0, 8, 16, 24, 32, 48]), seed=st.integers(0, 99))
def test_combine_equals_pil_paste_reference(width, height, tile_w, tile_h, overlap, seed):
    if overlap >= min(width, height):
        return
    g = tiles.grid(width, height, tile_w, tile_h, overlap)
    rng = np.random.default_rng(seed)
    pixels = [rng.integers(0, 256, (tile_h, tile_w, 3), dtype=np.uint8) for _ in g.tiles]
    np.testing.assert_array_equal(tiles.combine(g, pixels), pil_combine(g, pixels))


def test_rows_are_combined_as_soon_as_complete():
    g = tiles.grid(400, 400, 256, 256, 64)
    assembler = tiles.Assembler(g)
    tile = np.zeros((256, 256, 3), np.uint8)
    for t in g.tiles[:3]:
        assembler.add(t, tile)
    assert assembler.rows_done == 1 and list(assembler.pending) == [2]  # the first row's tiles are dropped
    with pytest.raises(ValueError, match="1 of 2"):
        assembler.image()


def test_seeds_repeat_across_batches_as_in_a1111():
    # batch 1: tile k gets seed + k.
    assert tiles.seeds(1234, 5, 1) == [1234, 1235, 1236, 1237, 1238]
    # batch 4, 6 tiles (the demo's first pass): batch 0 = seeds 1234..1237, batch 1 starts at
    # 1234 + 1 = 1235: tiles 4, 5 -> 1235, 1236.
    assert tiles.seeds(1234, 6, 4) == [1234, 1235, 1236, 1237, 1235, 1236]
    # batch 8, the reference's 55 tiles: tile 8 = batch 1 item 0 -> seed + 1; tile 54 = batch 6
    # item 6 -> seed + 12; tile 7 = batch 0 item 7 -> seed + 7.
    s = tiles.seeds(0, 55, 8)
    assert (s[7], s[8], s[54], len(s)) == (7, 1, 12, 55)


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match="below the tile size"):
        tiles.grid(100, 100, 64, 64, 64)
    with pytest.raises(ValueError, match="longer than the tile overlap"):
        tiles.grid(32, 100, 64, 64, 32)  # A1111 makes no tile here and returns black
