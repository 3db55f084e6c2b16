"""img2img on the demo model: A1111's step rule, lineage defaults, SRC as a file."""

import numpy as np
import pytest
from PIL import Image

from atlas.core.catalogue.store import sha256_file
from atlas.core.record.write import RenderInfo
from atlas.engine.generate import Txt2ImgRequest, generate
from atlas.engine.passes import Img2ImgRequest, img2img


@pytest.fixture
def source(demo_catalogue):
    return generate(demo_catalogue, Txt2ImgRequest(prompt="a red barn", negative_prompt="fog", steps=2,
                                                   sampler="Euler", cfg=5.0, width=64, height=64, seed=9),
                    RenderInfo())


@pytest.mark.parametrize("steps, denoise, expected", [(10, 0.5, 6), (10, 1.0, 10), (7, 0.3, 3), (20, 0.04, 1),
                                                      (4, 0.999, 4)])
def test_a1111_step_rule_is_followed_and_recorded(demo_catalogue, source, steps, denoise, expected):
    calls = []
    render = img2img(demo_catalogue, source.id, Img2ImgRequest(steps=steps, denoise=denoise, seed=1),
                     RenderInfo(), progress=lambda done, total: calls.append((done, total)))
    from atlas.core.record.build import producing_pass

    with demo_catalogue.session() as session:
        step = producing_pass(session, render.id)
        assert (step.steps, step.steps_run, step.denoise) == (steps, expected, denoise)
    assert calls[-1] == (expected, expected) and len(calls) == expected  # the steps really ran


@pytest.mark.parametrize("sampler", ["DPM++ 2M", "DDIM", "Heun"])
def test_other_samplers_run_a1111_step_counts(demo_catalogue, source, sampler):
    render = img2img(demo_catalogue, source.id, Img2ImgRequest(steps=6, denoise=0.5, seed=2, sampler=sampler),
                     RenderInfo())
    from atlas.core.record.build import producing_pass

    with demo_catalogue.session() as session:
        step = producing_pass(session, render.id)
        assert (step.sampler, step.steps_run) == (sampler, 4)


def test_settings_default_to_the_input_lineage_and_seeds_repeat(demo_catalogue, source):
    first = img2img(demo_catalogue, source.id, Img2ImgRequest(steps=4, denoise=0.6, seed=5), RenderInfo())
    second = img2img(demo_catalogue, first.id, Img2ImgRequest(steps=4, denoise=0.6, seed=5, cfg=9.0),
                     RenderInfo())
    from atlas.core.catalogue.tables import Render
    from atlas.core.record.build import lineage

    with demo_catalogue.session() as session:
        chain = lineage(session, session.get(Render, second.id))
        assert [p.kind for p in chain] == ["txt2img", "img2img", "img2img"]
        assert [p.input_render_id for p in chain] == [None, source.id, first.id]
        assert {(p.prompt, p.negative_prompt, p.sampler, p.model_id) for p in chain} == \
            {("a red barn", "fog", "Euler", chain[0].model_id)}
        assert [p.cfg for p in chain] == [5.0, 5.0, 9.0]
    again = img2img(demo_catalogue, source.id, Img2ImgRequest(steps=4, denoise=0.6, seed=5), RenderInfo())
    pixels = [np.asarray(Image.open(demo_catalogue.store.path_of(r.store_path))) for r in (first, again, source)]
    np.testing.assert_array_equal(pixels[0], pixels[1])
    assert not np.array_equal(pixels[0], pixels[2])


def test_img2img_command_imports_a_file_first_and_leaves_it_alone(demo_catalogue, cli, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(path)
    digest = sha256_file(path)
    result = cli("img2img", path, "a quiet street", "--denoise", "0.5", "--steps", "4", "--seed", "3", "--json")
    assert result.code == 0, result.err
    record = result.json()["record"]
    assert [p["kind"] for p in record["lineage"]] == ["import", "img2img"]
    step = record["lineage"][-1]
    assert (step["prompt"], step["steps"], step["steps_run"], step["denoise"]) == ("a quiet street", 4, 3, 0.5)
    assert (record["render"]["width"], record["render"]["height"]) == (80, 64)
    assert sha256_file(path) == digest  # the source file is never modified


def test_img2img_command_bad_input_exits_2_and_records_nothing(demo_catalogue, cli, source, tmp_path):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Pass, Render

    with demo_catalogue.session() as session:
        before = len(session.exec(select(Pass)).all())
        renders_before = len(session.exec(select(Render)).all())
    assert cli("img2img", source.id, "--denoise", "1.5").code == 2
    assert cli("img2img", 999, "x").code == 2
    (tmp_path / "notes.txt").write_text("not an image")
    result = cli("img2img", tmp_path / "notes.txt", "x")
    assert result.code == 2 and "notes.txt: not a" in result.err and "image" in result.err
    assert cli("img2img", source.id, "--sampler", "Eulr").code == 2
    from PIL import Image

    Image.new("RGB", (60, 50)).save(tmp_path / "odd.png")  # refused before it is imported
    for command in (["img2img", tmp_path / "odd.png", "x"], ["outpaint", tmp_path / "odd.png", "--side", "left"]):
        result = cli(*command)
        assert result.code == 2 and "odd.png is 60x50" in result.err, result.err
    with demo_catalogue.session() as session:
        assert len(session.exec(select(Pass)).all()) == before
        assert len(session.exec(select(Render)).all()) == renders_before


def test_an_a1111_file_passes_its_prompt_sampler_and_cfg_on(demo_catalogue, cli, tmp_path):
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("parameters", "photo of a duck\nNegative prompt: monochrome\nSteps: 15, Sampler: UniPC, "
                                "CFG scale: 5, Seed: 235284042, Size: 64x64, Model hash: c0d1994c73")
    path = tmp_path / "duck.png"
    Image.fromarray(np.full((64, 64, 3), 120, dtype=np.uint8)).save(path, pnginfo=info)
    # UniPC (order 3) needs three grid points: 10 steps at 0.3 run int(0.3 * 10) = 3 of them.
    result = cli("img2img", path, "--denoise", "0.3", "--steps", "10", "--seed", "1", "--json")
    assert result.code == 0, result.err
    imported, made = result.json()["record"]["lineage"]
    assert imported["kind"] == "import" and imported["prompt"] == "photo of a duck"
    assert (made["prompt"], made["negative_prompt"], made["sampler"], made["cfg"]) == \
        ("photo of a duck", "monochrome", "UniPC", 5.0)
    assert made["model"]["name"] == "atlas-demo-tiny-sd"  # the file's model is not registered here
