"""SD upscale: tile grid and blending, the demo SwinIR through spandrel, a real pass on the demo model."""

import itertools
import shutil

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from atlas.core.catalogue.tables import Model, Render
from atlas.core.record.build import build, producing_pass
from atlas.core.record.write import RenderInfo
from atlas.engine import tiles, upscalers
from atlas.engine.generate import Txt2ImgRequest, generate
from atlas.engine.passes import UpscaleRequest, upscale


@settings(max_examples=100, deadline=None)
@given(width=st.integers(8, 3000), height=st.integers(8, 3000), tile=st.integers(8, 600),
       overlap_share=st.floats(0, 0.9))
def test_tile_grid_covers_the_image_exactly(width, height, tile, overlap_share):
    overlap = int(tile * overlap_share)
    rows = tiles.grid(width, height, tile, overlap)
    covered = np.zeros((height, width), dtype=np.int32)
    for r, row in enumerate(rows):
        assert [t.row for t in row] == [r] * len(row) and len({t.y for t in row}) == 1
        for t in row:
            assert t.x >= 0 and t.x + t.width <= width and t.y >= 0 and t.y + t.height <= height
            covered[t.y:t.y + t.height, t.x:t.x + t.width] += 1
        xs = [t.x for t in row]
        assert xs[0] == 0 and xs[-1] + row[-1].width == width
        for a, b in itertools.pairwise(row):
            assert a.x + a.width - b.x >= min(overlap, a.width - 1) and b.x > a.x  # spread, overlapping
    assert covered.min() >= 1
    assert [t.index for row in rows for t in row] == list(range(sum(len(r) for r in rows)))


def test_blending_is_a_linear_ramp_over_the_overlap():
    rows = tiles.grid(20, 4, 12, 4)
    assert [t.x for t in rows[0]] == [0, 8]
    row = rows[0]
    strip = tiles.blend_row(row, [np.zeros((4, 12, 3)), np.full((4, 12, 3), 100.0)], 20)
    assert (strip[:, :8] == 0).all() and (strip[:, 12:] == 100).all()
    np.testing.assert_allclose(strip[0, 8:12, 0], [12.5, 37.5, 62.5, 87.5])
    canvas = np.zeros((6, 5, 3), dtype=np.float32)
    filled = tiles.blend_into(canvas, np.full((4, 5, 3), 40.0), 0, 0)
    filled = tiles.blend_into(canvas, np.full((4, 5, 3), 80.0), 2, filled)
    assert filled == 6
    np.testing.assert_allclose(canvas[:, 0, 0], [40, 40, 50, 70, 80, 80])
    same = tiles.blend_row(row, [np.full((4, 12, 3), 7.0)] * 2, 20)
    assert (same == 7).all()


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


def test_model_runs_until_the_target_then_lanczos_to_the_exact_size(demo_swinir):
    descriptor = upscalers.load_file(str(demo_swinir))
    image = Image.fromarray(np.random.default_rng(1).integers(0, 255, (20, 30, 3), dtype=np.uint8))
    out, applied = upscalers.upscale_to(descriptor, image, 120, 80)
    assert (out.size, applied) == ((120, 80), 2)
    out, applied = upscalers.upscale_to(descriptor, image, 60, 40)
    assert (out.size, applied) == ((60, 40), 1)
    out, applied = upscalers.upscale_to(None, image, 90, 60)  # Lanczos
    assert (out.size, applied) == ((90, 60), 0)


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
    assert set(settings_) == {"script", "upscaler", "scale", "tile", "overlap", "batch", "tiles", "tile_seeds"}
    assert settings_["script"] == "SD upscale" and settings_["upscaler"] == upscalers.DEMO_UPSCALER_NAME
    boxes = settings_["tiles"]
    assert len(boxes) == 9 and settings_["tile_seeds"] == [40 + i for i in range(9)]
    covered = np.zeros((144, 128), dtype=int)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] += 1
    assert covered.min() >= 1 and max(b[2] for b in boxes) == 128 and max(b[3] for b in boxes) == 144
    assert (last["steps"], last["steps_run"], last["denoise"]) == (4, 3, 0.5)
    assert last["upscaler"]["demo"] is True and last["upscaler"]["licence"]["id"] == "CC0-1.0"
    assert last["input"]["sha256"] == source.sha256 and last["prompt"] == "tower"
    assert progress[-1] == (9, 9)  # 3 batches x 3 steps
    # A tile's result does not depend on the batch it ran in (each tile has its own generator).
    single = run_upscale(demo_catalogue, source.id, batch=1)
    a, b = (np.asarray(Image.open(demo_catalogue.store.path_of(r.store_path)), dtype=int) for r in (batched, single))
    assert np.abs(a - b).max() <= 2
    other = run_upscale(demo_catalogue, source.id, batch=3, seed=41)
    c = np.asarray(Image.open(demo_catalogue.store.path_of(other.store_path)), dtype=int)
    assert np.abs(a - c).max() > 2


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
