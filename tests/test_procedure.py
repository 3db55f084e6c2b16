"""Grouping a lineage into runs of passes, and the words the procedure section uses."""

import pytest

from atlas.core.commons import procedure


def step(kind, **extra):
    base = {"kind": kind, "prompt": "p", "negative_prompt": "", "sampler": "Euler a", "steps": 100, "cfg": 7.0,
            "denoise": 0.8, "seed": 1, "steps_run": 81, "settings": {}, "model": None, "upscaler": None,
            "input": {"width": 64, "height": 64}, "output": {"width": 64, "height": 64}}
    return {**base, **extra}


def outpaint(side, **settings):
    return step("outpaint", settings={"script": "Outpainting mk2", "side": side, "pixels": 128, "mask_blur": 8,
                                      "falloff": 1.8, "colour_variation": 0.03, **settings})


@pytest.mark.parametrize("n, words", [(0, "zero"), (1, "one"), (14, "fourteen"), (20, "twenty"),
                                      (21, "twenty-one"), (99, "ninety-nine"), (100, "100")])
def test_number_words(n, words):
    assert procedure.number_words(n) == words


def test_equal_passes_group_and_sides_are_counted_in_order():
    lineage = [step("txt2img", denoise=None)] + [outpaint(s) for s in ("down", "left", "right", "left", "up")]
    groups = procedure.groups(lineage)
    assert [(g.kind, g.count) for g in groups] == [("txt2img", 1), ("outpaint", 5)]
    assert groups[1].count_words == "five"
    assert [(s["side"], s["count"]) for s in groups[1].sides] == [("left", 2), ("right", 1), ("top", 1),
                                                                   ("bottom", 1)]
    assert groups[1].settings == ["mask blur of 8", "fall-off exponent of 1.8", "colour variation of 0.03"]


def test_a_pass_with_different_settings_is_told_on_its_own():
    lineage = ([step("txt2img")] + [outpaint("left") for _ in range(3)] + [outpaint("left", mask_blur=4)]
               + [outpaint("right") for _ in range(2)]
               + [step("outpaint", denoise=0.5, settings=outpaint("up")["settings"])])
    groups = procedure.groups(lineage)
    assert [(g.kind, g.count) for g in groups] == [("txt2img", 1), ("outpaint", 3), ("outpaint", 1),
                                                   ("outpaint", 2), ("outpaint", 1)]
    assert "mask blur of 4" in groups[2].settings


def test_two_txt2img_are_never_merged_and_upscale_overlaps_are_listed_in_order():
    def up(overlap):
        return step("upscale", settings={"script": "SD upscale", "upscaler": "X", "scale": 2, "tile": 512,
                                                       "overlap": overlap, "tiles": overlap, "tile_seeds": [overlap]})
    groups = procedure.groups([step("txt2img"), step("txt2img")])
    assert [g.count for g in groups] == [1, 1]
    groups = procedure.groups([step("txt2img"), up(128), up(256), up(64)])
    assert groups[1].count == 3 and groups[1].overlaps == [128, 256, 64] and groups[1].overlaps_differ
    assert groups[1].settings == ["a scale factor of 2", "tiles of 512 px"]
    assert groups[1].upscaler == "X"
    same = procedure.groups([step("txt2img"), up(128), up(128)])[1]
    assert not same.overlaps_differ


def test_facts_name_devices_versions_and_models():
    model = {"name": "m", "sha256": "a" * 64, "short_hash": "a" * 10}
    lineage = [step("txt2img", device="cuda: NVIDIA H100", software={"atlas": "0.1.0", "diffusers": "0.42.0"},
                    model=model),
               step("img2img", device="cpu: x86_64, 2 threads", software={"atlas": "0.2.0"}, model=model)]
    facts = procedure.facts(lineage)
    assert facts["devices"] == ["a single NVIDIA H100", "the CPU (x86_64, 2 threads)"]
    assert facts["atlas_versions"] == ["0.1.0", "0.2.0"] and facts["diffusers_versions"] == ["0.42.0"]
    assert facts["checkpoints"] == [model] and facts["upscalers"] == []
