"""Comparing two renders' parameters: a pure function over two records."""

import copy

from atlas.core.actions.compare import compare, differences


def record(**step) -> dict:
    base = {"kind": "txt2img", "prompt": "a fox", "negative_prompt": "", "seed": 1, "sampler": "Euler",
            "steps": 20, "steps_run": 20, "cfg": 7.0, "width": 512, "height": 512, "denoise": None,
            "settings": {"rng": "GPU"}, "model": {"name": "sd15", "short_hash": "abcdef1234"}, "upscaler": None,
            "device": "cuda"}
    return {"render": {"width": 512, "height": 512, "format": "png", "tool": "atlas", "author": "ann",
                       "created": "2026-01-01T00:00:00.000Z", "licence": {"id": "CC0-1.0"}},
            "lineage": [{**base, **step}]}


def test_identical_records_differ_nowhere():
    a = record()
    rows = compare(a, copy.deepcopy(a))
    assert rows and not any(row.differs for row in rows)
    labels = [row.label for row in rows]
    assert {"prompt", "seed", "sampler", "cfg", "model", "settings.rng", "lineage", "size"} <= set(labels)


def test_the_differences_are_marked_with_both_values():
    a = record()
    b = record(seed=2, cfg=7.5, settings={"rng": "CPU", "clip_skip": 2})
    b["render"]["licence"] = {"id": "CC-BY-4.0"}
    found = {row.label: (row.left, row.right) for row in differences(a, b)}
    assert found == {"seed": (1, 2), "cfg": (7.0, 7.5), "settings.rng": ("GPU", "CPU"),
                     "settings.clip_skip": (None, 2), "licence": ("CC0-1.0", "CC-BY-4.0")}


def test_a_float_read_back_two_ways_is_one_value():
    a, b = record(denoise=0.52), record(denoise=0.5199999999999996)
    assert "denoise" not in {row.label for row in differences(a, b)}
    assert "denoise" in {row.label for row in differences(a, record(denoise=0.53))}


def test_an_imported_render_compares_by_the_model_it_names_and_its_lineage():
    imported = record(kind="import", model=None, settings={"model": "sd15", "model_hash": "abcdef1234"})
    rows = {row.label: row for row in compare(record(), imported)}
    assert not rows["model"].differs and not rows["model_hash"].differs
    assert rows["kind"].differs and rows["lineage"].left == "txt2img" and rows["lineage"].right == "import"
    longer = record()
    longer["lineage"] = [record()["lineage"][0], {**record()["lineage"][0], "kind": "upscale"}]
    assert {row.label: row.right for row in compare(record(), longer)}["lineage"] == "txt2img > upscale"
