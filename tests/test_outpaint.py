"""Outpainting mk2: matched noise, layout, mask, and a real pass on the demo model."""

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


def test_colour_variation_zero_gives_grey_noise():
    noise = mk2.mixed_noise(32, 48, 0.0, np.random.default_rng(1))
    assert np.array_equal(noise[..., 0], noise[..., 1]) and np.array_equal(noise[..., 1], noise[..., 2])
    coloured = mk2.mixed_noise(32, 48, 0.5, np.random.default_rng(1))
    assert not np.allclose(coloured[..., 0], coloured[..., 1])
    assert noise.shape == (32, 48, 3)


def test_matched_noise_follows_the_source_mean_and_histograms():
    image = source_image()
    known = np.zeros(image.shape[:2], dtype=bool)
    known[:, 32:] = True  # the left 32 columns are to be made
    filled = mk2.matched_noise(image, known, 1.8, 0.03, np.random.default_rng(7))
    assert np.array_equal(filled[known], image[known])  # the known area is untouched
    noise, source = filled[~known], image[known]
    np.testing.assert_allclose(noise.mean(axis=0), source.mean(axis=0), atol=0.01)
    for c in range(3):
        quantiles = np.linspace(0.05, 0.95, 10)
        np.testing.assert_allclose(np.quantile(noise[:, c], quantiles), np.quantile(source[:, c], quantiles),
                                   atol=0.01)
    # Plain uniform noise would not pass that check: the test can fail.
    uniform = np.random.default_rng(0).random(noise.shape)
    assert np.abs(uniform.mean(axis=0) - source.mean(axis=0)).max() > 0.1


def test_matched_noise_with_grey_source_and_no_colour_variation_is_grey():
    grey = source_image()[..., :1].repeat(3, axis=2)
    known = np.zeros(grey.shape[:2], dtype=bool)
    known[16:, :] = True
    filled = mk2.matched_noise(grey, known, 1.8, 0.0, np.random.default_rng(3))
    assert np.allclose(filled[..., 0], filled[..., 1]) and np.allclose(filled[..., 1], filled[..., 2])
    tinted = mk2.matched_noise(grey, known, 1.8, 1.0, np.random.default_rng(3))
    assert not np.allclose(tinted[~known][:, 0], tinted[~known][:, 1])


@pytest.mark.parametrize("side, offset, size, canvas", [
    ("left", (128, 0), (896, 512), (896, 512)),
    ("right", (0, 0), (208, 128), (256, 128)),
    ("up", (0, 16), (352, 144), (384, 192)),
    ("down", (0, 0), (352, 144), (384, 192)),
])
def test_layout_rounds_the_canvas_to_64_and_keeps_the_input_side(side, offset, size, canvas):
    width, height = {"left": (768, 512), "right": (192, 128)}.get(side, (352, 128))
    pixels = size[0] - width + size[1] - height
    lay = mk2.layout(width, height, side, pixels)
    assert (lay.offset, lay.size, lay.canvas) == (offset, size, canvas)
    assert all(v % 64 == 0 for v in lay.canvas)


def test_window_sits_at_the_growing_edge():
    lay = mk2.layout(1920, 1024, "right", 128, window=512)
    assert lay.window == (2048 - 512, 0, 2048, 1024)
    lay = mk2.layout(1920, 1024, "left", 128, window=512)
    assert lay.window == (0, 0, 512, 1024)
    lay = mk2.layout(2048, 896, "down", 128, window=512)
    assert lay.window == (0, 1024 - 512, 2048, 1024)
    assert mk2.layout(192, 128, "up", 16).window == (0, 0, 192, 192)  # small canvases: the whole canvas


def test_mask_covers_the_strip_and_blurs_into_the_input_only_on_the_growing_side():
    lay = mk2.layout(192, 128, "left", 32)
    mask = np.asarray(mk2.make_mask(lay, 8))
    assert mask.shape == (128, 256)
    assert (mask[:, :32] > 200).all()  # the new strip is (nearly) all work
    assert (mask[:, 32 + 8 * 4:224] == 0).all()  # the input beyond the blur band is held
    assert (mask[:, 224:] == 255).all()  # the rounding padding is work too (then cropped)
    assert mask[:, 28:48].min() < 255 and 0 < mask[64, 40] < 255  # a soft band at the seam
    # No bleed from the canvas edges or the padding into the input's other edges.
    assert (mask[0, 80:224] == 0).all() and (mask[127, 80:224] == 0).all() and (mask[:, 223] == 0).all()


def test_outpaint_pass_keeps_the_known_area_and_records_every_setting(demo_catalogue):
    source = generate(demo_catalogue, Txt2ImgRequest(prompt="harbour", steps=2, width=96, height=64, seed=3),
                      RenderInfo())
    request = OutpaintRequest(side="right", pixels=32, steps=4, denoise=0.8, mask_blur=4, falloff=1.8,
                              colour_variation=0.03, seed=11)
    render = outpaint(demo_catalogue, source.id, request, RenderInfo())
    assert (render.width, render.height) == (128, 64)
    before = np.asarray(Image.open(demo_catalogue.store.path_of(source.store_path)).convert("RGB"))
    after = np.asarray(Image.open(demo_catalogue.store.path_of(render.store_path)).convert("RGB"))
    lay = mk2.layout(96, 64, "right", 32)
    held = np.asarray(mk2.make_mask(lay, 4))[:64, :96] == 0
    assert held.sum() > 0.7 * held.size
    assert np.array_equal(after[:, :96][held], before[held])  # pixel-exact outside the blurred band
    assert not np.array_equal(after[:, 96:], np.zeros_like(after[:, 96:]))
    with demo_catalogue.session() as session:
        record = build(session, session.get(Render, render.id))
    step = record["lineage"][-1]
    assert step["kind"] == "outpaint" and step["input"]["sha256"] == source.sha256
    assert step["settings"] == {"script": "Outpainting mk2", "side": "right", "pixels": 32, "mask_blur": 4,
                                "falloff": 1.8, "colour_variation": 0.03}
    assert (step["steps"], step["steps_run"], step["denoise"], step["seed"]) == (4, 4, 0.8, 11)
    assert step["prompt"] == "harbour" and step["sampler"] == "Euler a"  # inherited from the lineage
    assert (step["width"], step["height"]) == (128, 64)  # the processing window
    # Same seed, same input: the same picture.
    again = outpaint(demo_catalogue, source.id, request, RenderInfo())
    np.testing.assert_array_equal(
        np.asarray(Image.open(demo_catalogue.store.path_of(again.store_path))), np.asarray(Image.open(
            demo_catalogue.store.path_of(render.store_path))))


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
    assert (record["render"]["width"], record["render"]["height"]) == (64, 72)


def test_a_blur_wider_than_the_input_holds_nothing_instead_of_failing():
    mask = np.asarray(mk2.make_mask(mk2.layout(64, 64, "left", 8), 100))
    assert mask.shape == (64, 128) and (mask == 255).all()
