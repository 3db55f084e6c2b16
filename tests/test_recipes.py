"""Recipes: shipped recipes, size chains computed without running, refusal with JSON paths."""

import copy
import itertools
import json

import pytest
import yaml

from atlas.core.catalogue.tables import Pass, Run
from atlas.core.errors import BadInput
from atlas.core.record import recipes


def test_reference_recipe_chain_matches_the_commons_page():
    recipe = recipes.load("futuristic-city")
    chain = recipes.sizes(recipe.document)
    kinds = [spec.kind for spec in recipes.expand(recipe.document)]
    assert kinds == ["txt2img"] + ["outpaint"] * 14 + ["upscale"] * 2
    outputs = [out for _, out in chain]
    assert outputs[0] == (768, 512)
    assert outputs[14] == (2048, 1024)
    assert outputs[15:] == [(4096, 2048), (8192, 4096)]
    for (_previous_in, previous_out), (this_in, _) in itertools.pairwise(chain):
        assert this_in == previous_out  # each pass starts from the previous pass's output
    specs = recipes.expand(recipe.document)
    sides = [s.settings["side"] for s in specs[1:15]]
    assert sides.count("left") == sides.count("right") == 5 and sides.count("up") == sides.count("down") == 2
    for spec in specs[1:15]:
        assert {k: spec.settings[k] for k in ("pixels", "steps", "sampler", "denoise", "cfg", "mask_blur",
                                              "falloff", "colour_variation")} == \
            {"pixels": 128, "steps": 100, "sampler": "Euler a", "denoise": 0.8, "cfg": 7, "mask_blur": 8,
             "falloff": 1.8, "colour_variation": 0.03}
    assert [s.settings["overlap"] for s in specs[15:]] == [128, 256]
    assert all(s.settings["upscaler"] == "SwinIR_4x" and s.settings["tile"] == 512 and s.settings["steps"] == 150
               and s.settings["denoise"] == 0.1 for s in specs[15:])


def test_demo_recipe_has_the_reference_shape():
    demo, reference = (recipes.load(n).document for n in ("demo", "futuristic-city"))
    assert [s.kind for s in recipes.expand(demo)] == [s.kind for s in recipes.expand(reference)]
    demo_sides = [s.settings.get("side") for s in recipes.expand(demo)]
    assert demo_sides == [s.settings.get("side") for s in recipes.expand(reference)]
    assert demo["model"] == "atlas-demo-tiny-sd"
    assert recipes.expand(demo)[-1].settings["upscaler"] == "atlas-demo-tiny-swinir"
    assert recipes.shipped() == ["demo", "futuristic-city"]


def test_yaml_and_json_files_load_the_same(tmp_path):
    document = recipes.load("demo").document
    (tmp_path / "r.json").write_text(json.dumps(document))
    (tmp_path / "r.yaml").write_text(yaml.safe_dump(document))
    assert recipes.load(tmp_path / "r.json").document == recipes.load(tmp_path / "r.yaml").document == document


def base() -> dict:
    return {"prompt": "p", "seed": 1, "txt2img": {"width": 64, "height": 64, "steps": 2},
            "passes": [{"repeat": 2, "outpaint": {"side": "left", "pixels": 8}}, {"upscale": {"scale": 2}}]}


@pytest.mark.parametrize("change, path", [
    (lambda d: d.update(colour="red"), "$: Additional properties are not allowed ('colour'"),
    (lambda d: d["passes"][0]["outpaint"].update(sied="up"), "$.passes[0].outpaint: Additional properties"),
    (lambda d: d["txt2img"].update(steps="many"), "$.txt2img.steps: 'many' is not of type 'integer'"),
    (lambda d: d["passes"][0].update(repeat=-1), "$.passes[0].repeat: -1 is less than the minimum of 1"),
    (lambda d: d["txt2img"].update(width=100), "$.txt2img.width: 100 is not a multiple of 8"),
    (lambda d: d["passes"][0]["outpaint"].update(pixels=12), "$.passes[0].outpaint.pixels: 12 is not a multiple of 8"),
    (lambda d: d["passes"][1]["upscale"].update(sampler="Eulr a"), "$.passes[1].upscale.sampler: unknown sampler"),
    (lambda d: d["passes"][1]["upscale"].update(tile=64, overlap=64),
     "$.passes[1].upscale.overlap: tile overlap must be below the tile size (64)"),
    (lambda d: d["passes"].append({"repeat": 200, "upscale": {"scale": 8}}), "would make a"),
])
def test_bad_recipes_are_refused_with_the_json_path(change, path):
    document = base()
    recipes.validate(copy.deepcopy(document))  # the base is fine
    change(document)
    with pytest.raises(BadInput) as caught:
        recipes.validate(document)
    assert path in str(caught.value)


def test_bad_recipe_on_the_command_line_exits_2_before_any_work(tmp_path, catalogue, cli):
    document = base()
    document["passes"][0]["repeat"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document))
    result = cli("run", path)
    assert result.code == 2 and "$.passes[0].repeat" in result.err
    (tmp_path / "broken.yaml").write_text("prompt: [unclosed\n")
    result = cli("run", tmp_path / "broken.yaml")
    assert result.code == 2 and "not valid YAML" in result.err
    result = cli("run", "no-such-recipe")
    assert result.code == 2 and "demo, futuristic-city" in result.err
    with catalogue.session() as session:
        from sqlmodel import select

        assert session.exec(select(Run)).all() == [] and session.exec(select(Pass)).all() == []
    assert not any(catalogue.home.models.iterdir())  # no model was even built


def test_overrides_replace_model_seed_and_every_upscaler():
    document = recipes.load("futuristic-city").document
    resolved = recipes.with_overrides(document, model="m", seed=5, upscaler="Lanczos")
    assert resolved["model"] == "m" and resolved["seed"] == 5
    assert {s.settings["upscaler"] for s in recipes.expand(resolved) if s.kind == "upscale"} == {"Lanczos"}
    assert document["defaults"]["upscale"]["upscaler"] == "SwinIR_4x"  # the original is untouched


def test_loading_and_refusing_recipes_needs_no_torch(tmp_path):
    from tests.support.processes import heavy_modules_after

    code = ("from atlas.core.record import recipes\nfrom atlas.core.importers import sources\n"
            "recipes.sizes(recipes.load('futuristic-city').document)\n")
    assert heavy_modules_after(code) == []
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**base(), "txt2img": {"width": 100, "height": 64}}))
    code = ("from atlas.cli.main import main\n"
            f"assert main(['--home', {str(tmp_path / 'h')!r}, 'run', {str(bad)!r}]) == 2\n")
    assert heavy_modules_after(code) == []


def test_help_for_the_pass_and_run_commands():
    from tests.support.processes import run_atlas

    for command in ("img2img", "outpaint", "upscale", "run", "demo"):
        done = run_atlas(command, "--help")
        assert done.returncode == 0 and "Usage:" in done.stdout, command
    assert "--resume" in run_atlas("run", "--help").stdout


def test_run_usage_errors_exit_2(catalogue, cli):
    assert cli("run").code == 2  # neither a recipe nor --resume
    assert cli("run", "demo", "--resume", "1").code == 2
    result = cli("run", "--resume", "5")
    assert result.code == 2 and "no run with id 5" in result.err
