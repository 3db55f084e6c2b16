"""SD upscale: target size, the upscaler loop, the demo SwinIR through spandrel, real passes on the demo model."""

import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from atlas.core.catalogue.tables import Model, Render
from atlas.core.errors import BadInput
from atlas.core.record.build import build, producing_pass
from atlas.core.record.recipes import upscale_size
from atlas.core.record.write import RenderInfo
from atlas.engine import upscalers
from atlas.engine.generate import Txt2ImgRequest, generate
from atlas.engine.passes import UpscaleRequest, upscale


@pytest.fixture(scope="module")
def demo_swinir(tmp_path_factory):
    return upscalers.build_demo(tmp_path_factory.mktemp("swinir") / "tiny-swinir.pth")


def test_demo_swinir_is_built_registered_and_loaded_back_through_spandrel(catalogue, demo_swinir):
    from spandrel import ImageModelDescriptor, ModelLoader

    row = upscalers.ensure_demo(catalogue)
    assert (row.kind, row.format, row.demo, row.licence_id) == ("upscaler", "spandrel", True, "CC0-1.0")
    assert row.path.endswith(".pth") and len(row.sha256) == 64
    import torch

    # Built from a fixed seed: the registered weights equal an independent build's.

    first, second = torch.load(row.path), torch.load(demo_swinir)
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    descriptor = ModelLoader().load_from_file(row.path)
    assert isinstance(descriptor, ImageModelDescriptor)
    assert (descriptor.architecture.id, descriptor.scale) == ("SwinIR", 2)
    out = upscalers.apply_model(upscalers.load_file(row.path), Image.new("RGB", (40, 24), (200, 30, 60)))
    assert out.size == (80, 48)


def test_target_size_is_floored_to_a_multiple_of_8():
    # A1111: int((side * scale) // 8 * 8).
    assert upscale_size(2048, 1024, 2) == (4096, 2048)  # reference pass 1
    assert upscale_size(4096, 2048, 2) == (8192, 4096)  # reference pass 2
    assert upscale_size(352, 192, 2) == (704, 384)  # demo pass 1
    assert upscale_size(100, 60, 1.5) == (144, 88)  # 150 -> 144 (rounding gave 152), 90 -> 88
    assert upscale_size(1000, 100, 2.5) == (2496, 248)  # 2500 -> 2496, 250 -> 248
    with pytest.raises(BadInput, match="too small"):
        upscale_size(3, 64, 2)  # 6 floors to 0


def test_model_runs_until_the_target_then_lanczos_to_the_exact_size(demo_swinir):
    descriptor = upscalers.load_file(str(demo_swinir))
    step = upscalers.model_step(descriptor)
    image = Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 30, 3), dtype=np.uint8))
    # x4 with an x2 model: 30x20 -> 60x40 -> 120x80 = target: 2 runs, no resize.
    out, applied = upscalers.upscale(image, 4, step)
    assert (out.size, applied) == ((120, 80), 2)
    # x3: target int(90 // 8 * 8) = 88 x int(60 // 8 * 8) = 56: 60x40 < 88x56, 120x80 >= it: 2 runs,
    # then Lanczos down to 88x56.
    out, applied = upscalers.upscale(image, 3, step)
    assert (out.size, applied) == ((88, 56), 2)
    twice = step(step(image))
    np.testing.assert_array_equal(np.asarray(out), np.asarray(twice.resize((88, 56), Image.Resampling.LANCZOS)))
    # x8: 240x160 is 3 runs of x2, the most A1111 allows.
    assert upscalers.upscale(image, 8, step)[0].size == (240, 160)


def test_the_upscaler_loop_stops_after_3_runs_or_when_the_size_stops_changing():
    image = Image.new("RGB", (40, 40), (10, 20, 30))
    runs = []

    def grow_8(im):  # a real (tiny) upscaler: 8 px more each run
        runs.append(im.size)
        return im.resize((im.width + 8, im.height + 8))

    # x2 -> 80x80 needs 5 runs of +8; A1111 stops after 3 (64x64) and resizes to 80x80.
    out, applied = upscalers.upscale(image, 2, grow_8)
    assert (out.size, applied, runs) == ((80, 80), 3, [(40, 40), (48, 48), (56, 56)])
    out, applied = upscalers.upscale(image, 2, lambda im: im.copy())  # no growth: one run, then Lanczos
    assert (out.size, applied) == ((80, 80), 1)


def test_lanczos_resizes_by_the_scale_then_to_the_floored_target():
    image = Image.fromarray(np.random.default_rng(3).integers(0, 255, (60, 100, 3), dtype=np.uint8))
    # A1111's Lanczos upscaler: one run to int(100 * 1.5) x int(60 * 1.5) = 150x90 (>= the 144x88
    # target), then a second Lanczos resize to 144x88.
    out, applied = upscalers.upscale(image, 1.5, upscalers.lanczos_step(1.5))
    assert (out.size, applied) == ((144, 88), 1)
    once = image.resize((150, 90), Image.Resampling.LANCZOS)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(once.resize((144, 88), Image.Resampling.LANCZOS)))


def test_reference_sizes_through_the_upscaler_loop():
    # Reference pass 1: 2048x1024 x2 with SwinIR_4x: target 4096x2048; one run gives 8192x4096
    # (>= target, stop), then Lanczos down. Pass 2: 4096x2048 -> one run 16384x8192 -> 8192x4096.
    # (A stand-in x4 "model" that makes a blank image of four times the size: only sizes matter.)
    def x4(im):
        return Image.new("L", (im.width * 4, im.height * 4))

    out, applied = upscalers.upscale(Image.new("L", (2048, 1024)), 2, x4)
    assert (out.size, applied) == ((4096, 2048), 1)


def run_upscale(catalogue, source_id, batch, seed=40):
    request = UpscaleRequest(upscaler=upscalers.DEMO_UPSCALER_NAME, scale=2, tile=64, overlap=16, batch=batch,
                             steps=4, denoise=0.5, seed=seed)
    return upscale(catalogue, source_id, request, RenderInfo())


def test_upscale_pass_records_tiles_seeds_and_upscaler(demo_catalogue):
    source = generate(demo_catalogue, Txt2ImgRequest(prompt="tower", steps=2, width=64, height=72, seed=2),
                      RenderInfo())
    progress = []
    request = UpscaleRequest(upscaler=upscalers.DEMO_UPSCALER_NAME, scale=2, tile=64, overlap=16, batch=3,
                             steps=4, denoise=0.5, seed=40)
    batched = upscale(demo_catalogue, source.id, request, RenderInfo(), progress=lambda d, t: progress.append((d, t)))
    assert (batched.width, batched.height) == (128, 144)
    with demo_catalogue.session() as session:
        record = build(session, session.get(Render, batched.id))
        step = producing_pass(session, batched.id)
        assert session.get(Model, step.upscaler_id).name == upscalers.DEMO_UPSCALER_NAME
    last = record["lineage"][-1]
    settings_ = last["settings"]
    assert set(settings_) == {"script", "upscaler", "scale", "tile", "overlap", "batch", "tiles", "tile_seeds",
                              "schedule_type", "rng"}
    assert (settings_["schedule_type"], settings_["rng"]) == ("Uniform", "CPU")  # Euler a's own schedule, CPU noise
    assert settings_["script"] == "SD upscale" and settings_["upscaler"] == upscalers.DEMO_UPSCALER_NAME
    boxes = settings_["tiles"]
    # 64x72 x2 -> 128x144, tile 64, overlap 16 (derived as A1111 places tiles):
    # x: n = ceil((128-16)/48) = ceil(2.33) = 3, step (128-64)/2 = 32: 0, 32, 64;
    # y: n = ceil((144-16)/48) = ceil(2.67) = 3, step (144-64)/2 = 40: 0, 40, 80.
    assert boxes == [[x, y, x + 64, y + 64] for y in (0, 40, 80) for x in (0, 32, 64)]
    # batch 3, seed 40: batch b starts at 40 + b, its items take consecutive seeds.
    assert settings_["tile_seeds"] == [40, 41, 42, 41, 42, 43, 42, 43, 44]
    assert (last["width"], last["height"]) == (64, 64)  # A1111's Size: the tile
    assert (last["steps"], last["steps_run"], last["denoise"]) == (4, 3, 0.5)
    assert last["upscaler"]["demo"] is True and last["upscaler"]["licence"]["id"] == "CC0-1.0"
    assert last["input"]["sha256"] == source.sha256 and last["prompt"] == "tower"
    assert progress[-1] == (9, 9)  # 3 batches x 3 steps
    # Batch 1 gives each tile its own seed (40..48): tiles 0-2 keep their seeds, so the first row
    # strip above the next row's blend (y < 40) is the same; tile 3 has seed 43, not 41: it differs.
    single = run_upscale(demo_catalogue, source.id, batch=1)
    with demo_catalogue.session() as session:
        assert producing_pass(session, single.id).settings["tile_seeds"] == list(range(40, 49))
    a, b = (np.asarray(Image.open(demo_catalogue.store.path_of(r.store_path)), dtype=int) for r in (batched, single))
    assert np.abs(a[:40] - b[:40]).max() <= 2 and np.abs(a[40:] - b[40:]).max() > 2


def test_upscale_with_the_none_upscaler_keeps_the_size(demo_catalogue):
    # A1111's "None" upscaler: no resize at all, the input itself is tiled.
    # 64x72, tile 64, overlap 16: x n = ceil(48/48) = 1 at 0; y n = ceil(56/48) = 2, step 8: 0, 8.
    source = generate(demo_catalogue, Txt2ImgRequest(prompt="t", steps=1, width=64, height=72, seed=3), RenderInfo())
    request = UpscaleRequest(upscaler="None", scale=2, tile=64, overlap=16, steps=2, denoise=0.5, seed=7)
    made = upscale(demo_catalogue, source.id, request, RenderInfo())
    assert (made.width, made.height) == (64, 72)
    with demo_catalogue.session() as session:
        step = producing_pass(session, made.id)
    assert step.settings["upscaler"] == "None" and step.settings["tiles"] == [[0, 0, 64, 64], [0, 8, 64, 72]]
    assert step.upscaler_id is None


def test_upscale_command_with_a_pth_file_and_bad_upscalers(demo_catalogue, cli, demo_swinir, tmp_path):
    source = generate(demo_catalogue, Txt2ImgRequest(prompt="x", steps=1, width=64, height=64, seed=1), RenderInfo())
    bare = tmp_path / "bare" / "mine.pth"
    bare.parent.mkdir()
    shutil.copy(demo_swinir, bare)
    result = cli("upscale", source.id, "--upscaler", bare)
    assert result.code == 2 and "licence" in result.err  # no card beside it: refused, nothing registered
    shutil.copy(demo_swinir.parent / "README.md", bare.parent / "README.md")
    result = cli("upscale", source.id, "--upscaler", bare, "--tile", "64", "--overlap", "8", "--steps", "2",
                 "--denoise", "0.5", "--json")
    assert result.code == 0, result.err
    last = result.json()["record"]["lineage"][-1]
    assert last["upscaler"]["name"] == "mine" and last["upscaler"]["format"] == "spandrel"
    (tmp_path / "junk.pth").write_bytes(b"not a model")
    result = cli("upscale", source.id, "--upscaler", tmp_path / "junk.pth")
    assert result.code == 2 and "spandrel cannot load" in result.err
    result = cli("upscale", source.id, "--tile", "64", "--overlap", "64")
    assert result.code == 2 and "overlap" in result.err
    result = cli("upscale", source.id, "--tile", "64", "--overlap", "8", "--steps", "2", "--json")
    assert result.code == 0 and result.json()["record"]["lineage"][-1]["settings"]["upscaler"] == "Lanczos"


def test_a_safetensors_upscaler_loads_the_same_way(demo_swinir, tmp_path):
    import torch
    from safetensors.torch import save_file

    path = tmp_path / "tiny.safetensors"
    save_file({k: v.contiguous() for k, v in torch.load(demo_swinir).items()}, str(path))
    image = Image.fromarray(np.random.default_rng(2).integers(0, 255, (24, 32, 3), dtype=np.uint8))
    from_pth = upscalers.apply_model(upscalers.load_file(str(demo_swinir)), image)
    from_safetensors = upscalers.apply_model(upscalers.load_file(str(path)), image)
    np.testing.assert_array_equal(np.asarray(from_pth), np.asarray(from_safetensors))


def test_models_see_bgr_as_in_a1111():
    tensor = upscalers.to_model_input(Image.new("RGB", (2, 1), (10, 20, 30)), torch.float32, "cpu")
    np.testing.assert_allclose(tensor[0, :, 0, 0].numpy(), [30 / 255, 20 / 255, 10 / 255], rtol=1e-6)
    back = upscalers.from_model_output(tensor)
    assert back.shape == (1, 2, 3) and tuple(back[0, 0]) == (10, 20, 30)


def test_swinir_tiles_average_where_they_overlap(demo_swinir):
    # A1111's SwinIR tiling: tiles of min(tile, width, height), starts range(0, L - tile, tile - overlap)
    # + [L - tile]. At its defaults (192, 8): 200 px -> [0, 8]; 40 px with a 24 px tile -> [0, 16].
    assert upscalers.average_starts(200, 192, 8) == [0, 8] and upscalers.average_starts(40, 24, 8) == [0, 16]
    descriptor = upscalers.load_file(str(demo_swinir))
    # Here tile 32, overlap 8 on 56x56: starts range(0, 24, 24) + [24] = [0, 24] on both axes, four
    # patches; output pixels (x2) are the mean of the patches over them: rows/columns 48..63 have two.
    image = Image.fromarray(np.random.default_rng(5).integers(0, 255, (56, 56, 3), dtype=np.uint8))
    out = np.asarray(upscalers.tiled_average(descriptor, image, 32, 8))
    source = upscalers.to_model_input(image, torch.float32, "cpu")
    total, count = torch.zeros(1, 3, 112, 112), torch.zeros(1, 3, 112, 112)
    with torch.inference_mode():
        for y in (0, 24):
            for x in (0, 24):
                total[..., 2 * y:2 * y + 64, 2 * x:2 * x + 64] += descriptor(source[..., y:y + 32, x:x + 32])
                count[..., 2 * y:2 * y + 64, 2 * x:2 * x + 64] += 1
    assert count[0, 0, 0, 0] == 1 and count[0, 0, 50, 50] == 4 and count[0, 0, 50, 100] == 2
    np.testing.assert_array_equal(out, upscalers.from_model_output(total / count))
    # apply_model runs a SwinIR this way at A1111's defaults.
    small = image.crop((0, 0, 40, 24))
    np.testing.assert_array_equal(np.asarray(upscalers.apply_model(descriptor, small)),
                                  np.asarray(upscalers.tiled_average(descriptor, small, 192, 8)))


def test_esrgan_like_models_use_the_sd_upscale_grid(demo_swinir):
    # ESRGAN-style tiling, here tile 32, overlap 8 on 56x56: n = ceil((56-8)/24) = 2 per axis, starts
    # int(k * 24) -> [0, 24]; each tile x2 and rounded to 8 bits, then combined on the grid x2 (starts
    # 0, 48, tile 64, overlap 16): output column 48 + i of the top rows blends the left tile's column
    # 48 + i with the right tile's column i at weight int(i * 255 / 16); from column 64 on, right alone.
    descriptor = upscalers.load_file(str(demo_swinir))
    image = Image.fromarray(np.random.default_rng(6).integers(0, 255, (56, 56, 3), dtype=np.uint8))
    out = np.asarray(upscalers.tiled_grid(descriptor, image, 32, 8)).astype(int)
    with torch.inference_mode():
        left, right = (upscalers.from_model_output(descriptor(upscalers.to_model_input(
            image.crop((x, 0, x + 32, 32)), torch.float32, "cpu"))).astype(int) for x in (0, 24))
    for i, w in ((0, 0), (1, 15), (8, 127), (15, 239)):
        total = left[5, 48 + i] * (255 - w) + right[5, i] * w + 128
        np.testing.assert_array_equal(out[5, 48 + i], ((total >> 8) + total) >> 8)
    np.testing.assert_array_equal(out[5, 64:], right[5, 16:])
    np.testing.assert_array_equal(out[5, :48], left[5, :48])
