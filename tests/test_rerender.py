"""`atlas rerender`: a render's last pass (or a file's parameters) run again, the pixels compared."""

import math
import shutil

import pytest
from PIL import Image, PngImagePlugin
from sqlmodel import select

from atlas.core.catalogue.tables import Pass, Render, Run
from atlas.core.files.embed import PARAMETERS_KEY
from atlas.core.record.write import RenderInfo


def stored_file(catalogue, render_id):
    with catalogue.session() as session:
        return catalogue.file_of(session.get(Render, render_id))


def parameters_only(src, dst, edit=None):
    """`src` saved again with only its A1111 `parameters` text (no atlas record, no XMP); PNG is
    lossless, so the pixels stay the same. `edit(text)` may change the parameters first."""
    with Image.open(src) as image:
        text = image.text[PARAMETERS_KEY]
        info = PngImagePlugin.PngInfo()
        info.add_text(PARAMETERS_KEY, edit(text) if edit else text)
        image.save(dst, pnginfo=info)
    with Image.open(dst) as check:
        assert set(check.text) == {PARAMETERS_KEY}
    return dst


def tampered(src, dst, delta=9):
    """`src` with one channel of one pixel raised by `delta`, every text chunk kept."""
    with Image.open(src) as image:
        info = PngImagePlugin.PngInfo()
        for key, value in image.text.items():
            info.add_text(key, value)
        pixels = image.convert("RGB")
    r, g, b = pixels.getpixel((3, 2))
    pixels.putpixel((3, 2), (r, g, b + delta if b + delta <= 255 else b - delta))
    pixels.save(dst, pnginfo=info)
    return dst


@pytest.fixture
def small_render(demo_catalogue):
    from atlas.engine.generate import Txt2ImgRequest, generate

    request = Txt2ImgRequest(prompt="a lighthouse", negative_prompt="fog", steps=2, width=64, height=64, seed=11)
    return generate(demo_catalogue, request, RenderInfo(title="small"))


def counts(catalogue):
    with catalogue.session() as session:
        return [len(session.exec(select(t)).all()) for t in (Render, Pass, Run)]


def test_rerender_of_a_render_and_of_its_files(demo_catalogue, small_render, cli, tmp_path):
    before = counts(demo_catalogue)
    result = cli("rerender", small_render.id, "--json")
    assert result.code == 0, result.err
    facts = result.json()
    assert facts["identical"] is True and facts["max_abs_difference"] == 0 and facts["size"] == [64, 64]
    assert facts["plan"]["seed"] == 11 and facts["plan"]["model"] == "atlas-demo-tiny-sd"

    # A copy of the file, read through its atlas record, and the same with only A1111 parameters.
    copy = shutil.copy(stored_file(demo_catalogue, small_render.id), tmp_path / "copy.png")
    assert cli("rerender", copy).code == 0
    only = parameters_only(copy, tmp_path / "a1111.png")
    result = cli("rerender", only)
    assert result.code == 0 and "identical" in result.out, result.err

    # One channel of one pixel changed by 9: the difference is exactly that pixel's.
    for source in (copy, only):
        bad = tampered(source, tmp_path / f"tampered-{source.name}")
        result = cli("rerender", bad, "--json")
        assert result.code == 1, result.err
        facts = result.json()
        mse = 9**2 / (64 * 64 * 3)
        assert facts["identical"] is False and facts["max_abs_difference"] == 9
        assert facts["mean_abs_difference"] == pytest.approx(9 / (64 * 64 * 3))
        assert facts["psnr_db"] == pytest.approx(10 * math.log10(255**2 / mse), abs=1e-3)
        assert "differs" in cli("rerender", bad).out
    assert counts(demo_catalogue) == before  # a rerender is a check: nothing is recorded


def test_unknown_model_hash_exits_2_naming_it_and_model_overrides(demo_catalogue, small_render, cli, tmp_path):
    def other_model(text):
        lines = text.splitlines()
        lines[-1] = ", ".join("Model hash: 0123456789" if part.startswith("Model hash:")
                              else "Model: someone-elses" if part.startswith("Model:") else part
                              for part in lines[-1].split(", "))
        return "\n".join(lines)

    path = parameters_only(stored_file(demo_catalogue, small_render.id), tmp_path / "other.png", other_model)
    with Image.open(path) as image:
        assert "Model hash: 0123456789" in image.text[PARAMETERS_KEY]
    result = cli("rerender", path)
    assert result.code == 2 and "0123456789" in result.err, result.err
    result = cli("rerender", path, "--model", "atlas-demo-tiny-sd")
    assert result.code == 0, result.err
    result = cli("rerender", path, "--model", "no-such-model")
    assert result.code == 2 and "no-such-model" in result.err


def test_bad_targets_exit_2(catalogue, cli, tmp_path):
    assert cli("rerender", "77").code == 2
    assert cli("rerender", "not-a-file.png").code == 2
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    result = cli("rerender", plain)
    assert result.code == 2 and "no generation parameters" in result.err
    img2img = tmp_path / "img2img.png"
    info = PngImagePlugin.PngInfo()
    info.add_text(PARAMETERS_KEY, "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 64x64, "
                                  "Denoising strength: 0.5")
    Image.new("RGB", (64, 64)).save(img2img, pnginfo=info)
    result = cli("rerender", img2img)
    assert result.code == 2 and "Denoising strength 0.5" in result.err


# Which of the demo recipe's 17 renders a test re-renders by id: in CI the first and last txt2img and
# outpaint renders (the smallest and the largest outpaint canvas) and the first upscale; the last
# upscale, the largest render, is re-rendered below from its file (the same pass, reached through the
# record the file embeds). Every one of them by id in the `long` run.
ENDS = (0, 1, 14, 15)


@pytest.mark.xdist_group("demo_recipe")  # shares demo_recipe_run with tests/test_runner.py
@pytest.mark.parametrize("chosen", [pytest.param(ENDS, id="each-kind"),
                                    pytest.param(None, id="every-render", marks=pytest.mark.long)])
def test_every_render_of_the_demo_recipe_rerenders_pixel_identical(demo_run, cli, tmp_path, chosen):
    with demo_run.session() as session:
        run = session.exec(select(Run)).one()  # `atlas demo --seed 5`, run once for the tests that read it
        steps = session.exec(select(Pass).where(Pass.run_id == run.id).order_by(Pass.position)).all()
        renders = [(step.kind, step.render_id) for step in steps]
    assert [kind for kind, _ in renders] == ["txt2img"] + ["outpaint"] * 14 + ["upscale"] * 2
    before = counts(demo_run)
    for kind, render_id in (renders if chosen is None else [renders[i] for i in chosen]):
        done = cli("rerender", render_id, "--json")
        assert done.code == 0, (kind, render_id, done.out, done.err)
        assert done.json()["identical"] is True
    # The final render's file out of the catalogue: its last pass starts from the input render the
    # record names by sha256. And the demo's first render with only its A1111 parameters.
    final = shutil.copy(stored_file(demo_run, renders[-1][1]), tmp_path / "final.png")
    assert cli("rerender", final).code == 0
    first = parameters_only(stored_file(demo_run, renders[0][1]), tmp_path / "first.png")
    done = cli("rerender", first, "--json")
    assert done.code == 0 and done.json()["plan"]["source"].endswith("(AUTOMATIC1111 parameters)"), done.out
    assert counts(demo_run) == before


def test_refusals_come_before_torch(tmp_path):
    from tests.support.processes import heavy_modules_after

    home = str(tmp_path / "h")
    code = ("from atlas.cli.main import main\n"
            f"assert main(['--home', {home!r}, 'rerender', '77']) == 2\n"
            f"assert main(['--home', {home!r}, 'rerender', {str(tmp_path / 'missing.png')!r}]) == 2\n")
    assert heavy_modules_after(code) == []


def test_compare_names_a_size_difference(tmp_path):
    from atlas.core.actions.rerender import compare

    Image.new("RGB", (16, 8), (10, 20, 30)).save(tmp_path / "file.png")
    found = compare(tmp_path / "file.png", Image.new("RGB", (8, 8), (10, 20, 30)))
    assert (found.identical, found.max_abs, found.expected_size, (found.width, found.height)) == \
        (False, None, (16, 8), (8, 8))
    same = compare(tmp_path / "file.png", Image.new("RGBA", (16, 8), (10, 20, 30, 255)))
    assert same.identical and same.psnr is None
