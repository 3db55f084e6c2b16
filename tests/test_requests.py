"""Settings limits, defined once (atlas.core.settings), refused alike by the requests, the CLI and
recipes, before torch is imported; the recipe schema's bounds agree with the table."""

import copy
import json

import pytest

from atlas.core import settings
from atlas.core.errors import BadInput
from atlas.core.record import recipes, requests
from atlas.core.resources import schema_path
from atlas.core.settings import SettingError

MAX_SEED = 4294967295  # A1111's seeds are unsigned 32-bit


# Limits written out by hand from what A1111 offers, one row per new setting: values a pass
# accepts and values it refuses (the refusal names the setting).
@pytest.mark.parametrize("name, good, bad", [
    ("schedule", ["Automatic", "Uniform", "Karras", "Exponential", "Polyexponential", "SGM Uniform"],
     ["karras", "Karass", "", 3]),
    ("rng", ["CPU", "GPU", "NV"], ["cpu", "CUDA", None]),
    ("ensd", [0, 31337, MAX_SEED], [-1, MAX_SEED + 1, 1.5, "31337"]),
    ("variation_seed", [None, -1, 0, MAX_SEED], [-2, MAX_SEED + 1, "7"]),
    ("variation_strength", [0, 0.0, 0.5, 1], [-0.01, 1.01, "0.5", float("nan")]),
    ("seed_resize_from", [None, "none", "512x512", "64X128", (768, 512)], ["512", "100x100", "0x0", "x", 512]),
    ("steps", [1, 1000], [0, 1001, 2.5, True]),
    ("cfg", [1, 30.0], [0.99, 30.5, float("nan"), float("inf")]),
    ("seed", [-1, 0, MAX_SEED], [-2, MAX_SEED + 1]),
    ("width", [64, 16384], [56, 100, 16392]),
])
def test_each_setting_accepts_its_range_and_refuses_outside_it(name, good, bad):
    for value in good:
        requests.Txt2ImgRequest("p", **{name: value}).checked()
        if name != "width":
            requests.Img2ImgRequest(**{name: value}).checked()
    for value in bad:
        with pytest.raises(SettingError) as caught:
            requests.Txt2ImgRequest("p", **{name: value}).checked()
        assert caught.value.setting == name, (value, str(caught.value))


def test_seed_resize_is_kept_as_a_pair():
    assert requests.Txt2ImgRequest("p", seed_resize_from="768x512").checked().seed_resize_from == (768, 512)
    assert requests.Txt2ImgRequest("p", seed_resize_from="none").checked().seed_resize_from is None


def test_defaults_of_the_new_settings_and_of_each_pass_kind():
    # atlas draws noise on the CPU by default; A1111's own default RNG source is GPU.
    made = requests.Txt2ImgRequest("p").checked()
    assert (made.schedule, made.rng, made.ensd, made.variation_seed, made.variation_strength,
            made.seed_resize_from) == ("Automatic", "CPU", 0, None, 0.0, None)
    assert (made.steps, made.sampler, made.cfg, made.width, made.height, made.seed) == (50, "Euler a", 7.0, 768, 512,
                                                                                       -1)
    out = requests.OutpaintRequest().checked()
    assert (out.steps, out.denoise, out.side, out.pixels, out.mask_blur, out.falloff, out.colour_variation) == \
        (100, 0.8, "left", 128, 8, 1.8, 0.03)
    up = requests.UpscaleRequest().checked()
    assert (up.steps, up.denoise, up.upscaler, up.scale, up.tile, up.overlap, up.batch) == \
        (150, 0.1, "Lanczos", 2.0, 512, 128, 1)
    assert (up.sampler, up.cfg) == (None, None)  # left to the input's lineage
    assert requests.Img2ImgRequest().checked().denoise == 0.75


@pytest.mark.parametrize("values, setting", [
    ({"overlap": 512, "tile": 512}, "overlap"),
    ({"scale": 1}, "scale"),
    ({"tile": 520 + 4}, "tile"),
    ({"batch": 65}, "batch"),
])
def test_upscale_limits(values, setting):
    with pytest.raises(SettingError) as caught:
        requests.UpscaleRequest(**values).checked()
    assert caught.value.setting == setting


def test_upscale_overlap_need_not_be_a_multiple_of_8_in_a_recipe_or_a_request():
    # A1111 places tiles at any pixel; the recipe used to refuse 100 while the CLI took it.
    assert requests.UpscaleRequest(overlap=100).checked().overlap == 100
    document = _base()
    document["passes"][1]["upscale"]["overlap"] = 36  # below its tile of 64
    recipes.validate(document)


def _base() -> dict:
    return {"prompt": "p", "seed": 1, "txt2img": {"width": 64, "height": 64, "steps": 2},
            "passes": [{"outpaint": {"side": "left", "pixels": 8}},
                       {"upscale": {"scale": 2, "tile": 64, "overlap": 16}}]}


def test_recipes_take_the_new_settings_on_every_pass_kind():
    extra = {"schedule": "Karras", "rng": "NV", "ensd": 31337, "variation_seed": 5, "variation_strength": 0.25,
             "seed_resize_from": "64x64"}
    document = _base()
    document["txt2img"].update(extra)
    document["passes"][0]["outpaint"].update(extra)
    document["defaults"] = {"upscale": dict(extra, rng="GPU")}
    recipes.validate(document)
    specs = recipes.expand(document)
    made = [requests.for_kind(spec.kind, dict(spec.settings)) for spec in specs]
    assert [m.rng for m in made] == ["NV", "NV", "GPU"]
    assert all(m.seed_resize_from == (64, 64) and m.ensd == 31337 for m in made)


@pytest.mark.parametrize("change, message", [
    (lambda d: d["txt2img"].update(steps=0), "$.txt2img.steps: "),
    (lambda d: d["txt2img"].update(rng="CUDA"), "$.txt2img.rng: "),
    (lambda d: d["txt2img"].update(seed_resize_from="100x100"), "$.txt2img.seed_resize_from: "),
    (lambda d: d["passes"][0]["outpaint"].update(variation_strength=2),
     "$.passes[0].outpaint.variation_strength: "),
    (lambda d: d["passes"][0]["outpaint"].update(schedule="karras"), "$.passes[0].outpaint.schedule: "),
    (lambda d: d["passes"][1]["upscale"].update(ensd=-1), "$.passes[1].upscale.ensd: "),
    (lambda d: d["passes"][1]["upscale"].update(variation_seed=-2), "$.passes[1].upscale.variation_seed: "),
    (lambda d: d.update(defaults={"upscale": {"tile": 64, "overlap": 64}}),
     "$.defaults.upscale.overlap: tile overlap must"),
    (lambda d: d.update(defaults={"outpaint": {"sampler": "Eulr a"}}), "$.defaults.outpaint.sampler: unknown"),
    # A 50 MB prompt held its pass at 9.7 GB: refused by length, named where it is.
    (lambda d: d.update(prompt="x" * 65537), "prompt is 65537 characters long"),
])
def test_recipes_refuse_bad_settings_with_their_json_path(change, message):
    document = _base()
    recipes.validate(copy.deepcopy(document))
    change(document)
    with pytest.raises(BadInput) as caught:
        recipes.validate(document)
    assert message in str(caught.value)
    assert str(caught.value).count(message) == 1  # a bad default is named once


def _schema_bounds(node: dict, defs: dict) -> dict:
    if "$ref" in node:
        node = {**defs[node["$ref"].rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def test_the_recipe_schema_bounds_are_the_tables():
    """Each bound the schema states (for editors and early errors) equals the settings table's."""
    schema = json.loads(schema_path("recipe").read_text(encoding="utf-8"))
    defs = schema["$defs"]
    objects = {"txt2img": schema["properties"]["txt2img"], **{k: defs[k] for k in ("img2img", "outpaint", "upscale")}}
    objects["seed"] = {"properties": {"seed": schema["properties"]["seed"]}}
    checked = set()
    for kind, obj in objects.items():
        for key, raw in obj["properties"].items():
            if key not in settings.SETTINGS:
                continue
            node, setting = _schema_bounds(raw, defs), settings.SETTINGS[key]
            checked.add(key)
            if setting.choices:
                assert tuple(node["enum"]) == setting.choices, (kind, key)
                continue
            if setting.type is str:
                continue
            low = min([*setting.special, setting.low]) if setting.special else setting.low
            if setting.low_exclusive:
                assert node.get("exclusiveMinimum") == low, (kind, key)
            else:
                assert node.get("minimum") == low, (kind, key)
            assert node.get("maximum") == setting.high, (kind, key)
            assert node.get("multipleOf") == setting.multiple_of, (kind, key)
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            assert {"integer" if setting.type is int else "number"} <= set(types), (kind, key)
            assert ("null" in types) == (setting.default is None), (kind, key)
    assert checked == set(settings.SETTINGS)  # every setting is a recipe key


def test_cli_refuses_bad_settings_with_exit_2_before_torch_is_imported(tmp_path):
    """Each refusal in a fresh interpreter: exit 2, the setting named, and torch never imported."""
    from tests.support.processes import heavy_modules_after

    home = str(tmp_path / "home")
    cases = [
        (["generate", "x", "--steps", "0"], "steps must be between 1 and 1000, got 0"),
        (["generate", "x", "--cfg", "31"], "CFG scale must be between 1 and 30"),
        (["generate", "x", "--size", "100x64"], "width must be a multiple of 8"),
        (["generate", "x", "--seed", "-2"], "seed must be -1 (random) or between 0 and 4294967295, got -2"),
        (["generate", "x", "--schedule", "Karass"], "schedule must be one of Automatic,"),
        (["generate", "x", "--rng", "CUDA"], "RNG source must be one of CPU, GPU, NV"),
        (["generate", "x", "--ensd", "-1"], "eta noise seed delta must be between 0 and 4294967295"),
        (["generate", "x", "--variation-seed", "-3"], "variation seed must be -1 (random) or between 0"),
        (["generate", "x", "--variation-strength", "1.5"], "variation strength must be between 0 and 1"),
        (["generate", "x", "--seed-resize-from", "10x10"], "seed resize from must be WIDTHxHEIGHT"),
        (["generate", "x", "--sampler", "Eulr"], "unknown sampler"),
        (["generate", "x", "--steps", "99999999999999999999"], "steps must be between 1 and 1000"),
        (["img2img", "1", "--denoise", "1.5"], "denoising strength must be between 0 and 1"),
        (["img2img", "1", "--rng", "cpu"], "RNG source must be one of"),
        (["outpaint", "1", "--side", "left", "--pixels", "12"], "pixels must be a multiple of 8 between 8 and 4096"),
        (["outpaint", "1", "--side", "left", "--mask-blur", "300"], "mask blur must be between 0 and 256"),
        (["upscale", "1", "--tile", "256", "--overlap", "256"], "tile overlap must be below the tile size (256)"),
        (["upscale", "1", "--scale", "1"], "scale must be above 1 and at most 8"),
        (["upscale", "1", "--variation-strength", "-1"], "variation strength must be between 0 and 1"),
        (["generate", "x" * 65537], "prompt is 65537 characters long, more than MAX_PROMPT_CHARS (65536)"),
    ]
    code = ("import contextlib, io, sys\nfrom atlas.cli.main import main\nresults = []\n"
            f"for args, _ in {cases!r}:\n"
            "    err = io.StringIO()\n"
            "    with contextlib.redirect_stderr(err):\n"
            f"        status = main(['--home', {home!r}, *args])\n"
            "    results.append((status, err.getvalue(), 'torch' in sys.modules))\n"
            "print('RESULTS=' + __import__('json').dumps(results))\n")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULTS="))
    for (args, message), (status, err, torch_loaded) in zip(cases, json.loads(line[8:]), strict=True):
        assert status == 2, (args, err)
        assert message in err, (args, err)
        assert not torch_loaded, args
    assert heavy_modules_after("import atlas.cli.generate_cmd, atlas.cli.passes_cmd, atlas.cli.run_cmd") == []


@pytest.mark.parametrize("args, message", [
    (["generate", "x", "--negative", "n" * 70000], "negative prompt is 70000 characters long"),
    (["img2img", "1", "p" * 65537], "prompt is 65537 characters long"),
    (["outpaint", "1", "--side", "left", "--prompt", "p" * 65537], "prompt is 65537 characters long"),
])
def test_prompts_past_the_limit_are_refused_by_every_command(cli, args, message):
    result = cli(*args)
    assert result.code == 2 and message in result.err


def test_cli_takes_what_a_recipe_takes(catalogue, cli):
    """An overlap of 100 and the new settings pass the checks: the command goes on to its input."""
    result = cli("upscale", "424242", "--overlap", "100", "--schedule", "Karras", "--rng", "NV", "--ensd", "31337",
                 "--variation-seed", "-1", "--variation-strength", "0.3", "--seed-resize-from", "512x512")
    assert result.code == 2 and "424242" in result.err and "overlap" not in result.err, result.err


def test_help_shows_the_new_options_with_their_limits(cli):
    text = cli("generate", "--help").out
    for option in ("--schedule", "--rng", "--ensd", "--variation-seed", "--variation-strength",
                   "--seed-resize-from"):
        assert option in text
    assert "CPU, GPU, NV" in text and "between 1 and 1000" in text
    for command in ("img2img", "outpaint", "upscale"):
        assert "--variation-strength" in cli(command, "--help").out
