"""Seed settings on the record side (atlas.core.seeding): checks, pass settings, and A1111's infotext
fields as A1111 writes them (modules/processing.py, create_infotext) and reads them."""

import pytest

from atlas.core.errors import BadInput
from atlas.core.files import embed, infotext
from atlas.core.importers import a1111
from atlas.core.seeding import SeedSettings, infotext_from_settings, settings_from_infotext, writes_ensd

FULL = SeedSettings(rng="NV", ensd=31337, variation_seed=4242, variation_strength=0.35, seed_resize_from=(512, 768))


def test_defaults_are_atlas_cpu_noise_and_nothing_else():
    assert SeedSettings().to_settings() == {"rng": "CPU"}
    assert SeedSettings.from_settings({}) == SeedSettings()


@pytest.mark.parametrize("kwargs, message", [
    ({"rng": "TPU"}, "unknown RNG source"),
    ({"rng": None}, "unknown RNG source"),
    ({"ensd": 1.5}, "ENSD"),
    ({"ensd": True}, "ENSD"),
    ({"ensd": 2**32}, "ENSD"),
    ({"variation_seed": -2}, "variation seed"),
    ({"variation_seed": 2**32}, "variation seed"),
    ({"variation_strength": 1.01}, "variation strength"),
    ({"variation_strength": -0.01}, "variation strength"),
    ({"variation_strength": float("nan")}, "variation strength"),
    ({"variation_strength": "0.5"}, "variation strength"),
    ({"seed_resize_from": (0, 512)}, "seed resize width"),
    ({"seed_resize_from": (512, 2056)}, "seed resize height"),
    ({"seed_resize_from": (500, 512)}, "multiple of 8"),
    ({"seed_resize_from": (512,)}, "width and a height"),
])
def test_bad_values_are_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(BadInput, match=message):
        SeedSettings(**kwargs)


def test_rng_source_is_read_in_any_case():
    assert SeedSettings(rng=" nv ").rng == "NV"


def test_bad_seed_resize_text_is_refused():
    with pytest.raises(BadInput, match="WIDTHxHEIGHT"):
        SeedSettings.from_settings({"seed_resize_from": "512 by 512"})


def test_pass_settings_round_trip():
    recorded = FULL.to_settings()
    assert recorded == {"rng": "NV", "ensd": 31337, "variation_seed": 4242, "variation_strength": 0.35,
                        "seed_resize_from": "512x768"}
    assert SeedSettings.from_settings(recorded) == FULL


def test_variation_seed_random_is_drawn_once_and_kept():
    asked = SeedSettings(variation_strength=0.5)
    resolved = asked.resolved()
    assert 0 <= resolved.variation_seed < 2**32 and resolved.resolved() == resolved
    assert SeedSettings(variation_seed=-1).resolved().variation_seed == -1  # strength 0: not used


def test_image_seeds_number_a_batch_as_a1111():
    # Without a variation the seeds count up; with one, every image keeps the seed (A1111's quirk)
    # and the variation seeds count up.
    assert SeedSettings().image_seeds(100, 3) == ([100, 101, 102], [-1, 0, 1])
    assert SeedSettings(variation_seed=7, variation_strength=0.1).image_seeds(100, 3) == ([100, 100, 100],
                                                                                        [7, 8, 9])


def test_infotext_fields_as_a1111_writes_them():
    assert FULL.to_infotext("Euler a") == {"Variation seed": 4242, "Variation seed strength": 0.35,
                                           "Seed resize from": "512x768", "ENSD": 31337, "RNG": "NV"}


def test_rng_is_left_out_for_gpu_only():
    assert "RNG" not in SeedSettings(rng="GPU").to_infotext("Euler")
    assert SeedSettings(rng="CPU").to_infotext("Euler") == {"RNG": "CPU"}


@pytest.mark.parametrize("sampler, eta, written", [
    ("Euler a", None, True), ("DPM++ 2S a", None, True), ("DPM2 a Karras", None, True),
    ("DPM fast", None, True), ("euler_ancestral", None, True), ("Euler a", 0, False), ("Euler a", 0.5, True),
    ("Euler", None, False), ("DPM++ 2M", None, False), ("DPM++ SDE", None, False), ("DDIM", None, False),
    (None, None, False),
])
def test_ensd_is_written_when_the_sampler_uses_it(sampler, eta, written):
    assert writes_ensd(sampler, eta) is written
    assert ("ENSD" in SeedSettings(ensd=5).to_infotext(sampler, eta)) is written
    assert "ENSD" not in SeedSettings(ensd=0).to_infotext(sampler, eta)


def test_variation_fields_only_with_a_strength():
    assert SeedSettings(rng="GPU", variation_seed=3).to_infotext("Euler a") == {}


def test_every_key_round_trips_through_an_infotext():
    fields = {key: str(value) for key, value in FULL.to_infotext("Euler a").items()}
    text = infotext.write("a cat", "", {"Steps": 20, "Sampler": "Euler a", "Seed": 1, **fields})
    read = a1111.read(text)
    assert SeedSettings.from_settings(read["settings"]) == FULL
    assert settings_from_infotext(infotext.parse(text)[2], "AUTOMATIC1111") == FULL.to_settings()


def test_an_a1111_text_without_rng_was_made_on_the_gpu():
    text = "a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"
    assert a1111.read(text)["settings"]["rng"] == "GPU"
    assert "rng" not in settings_from_infotext({"Steps": "20"}, "ComfyUI")  # another tool: not known
    assert a1111.read(text.replace("Size: 512x512", "Size: 512x512, RNG: CPU"))["settings"]["rng"] == "CPU"


def test_unreadable_values_are_left_out_on_import():
    fields = {"RNG": "quantum", "ENSD": "x", "Variation seed": "", "Variation seed strength": "nan",
              "Seed resize from": "big"}
    assert settings_from_infotext(fields, "Forge") == {}
    assert settings_from_infotext({"ensd": "31337", "variation seed strength": "0.2"}) == {
        "ensd": 31337, "variation_strength": 0.2}


def record(kind: str, settings: dict, sampler: str = "Euler a") -> dict:
    return {"lineage": [{"kind": kind, "prompt": "a cat", "negative_prompt": "", "steps": 20, "sampler": sampler,
                         "cfg": 7, "seed": 1234, "width": 64, "height": 64, "denoise": 0.5,
                         "model": {"name": "demo", "short_hash": "abcdef0123"}, "settings": settings,
                         "software": {"atlas": "0.1"}}]}


def test_embed_writes_the_last_pass_fields_in_a1111s_order():
    _, _, params = embed.a1111_params(record("txt2img", FULL.to_settings()))
    written = [key for key, value in params.items() if value is not None]
    assert written == ["Steps", "Sampler", "CFG scale", "Seed", "Size", "Model hash", "Model", "Variation seed",
                       "Variation seed strength", "Seed resize from", "ENSD", "RNG", "Version"]
    text = embed.parameters_text(record("txt2img", FULL.to_settings()))
    assert SeedSettings.from_settings(a1111.read(text)["settings"]) == FULL


def test_embed_says_cpu_for_an_atlas_pass_that_recorded_no_source():
    assert embed.a1111_params(record("img2img", {}))[2]["RNG"] == "CPU"
    assert embed.a1111_params(record("import", {}))[2]["RNG"] is None  # not known: left out
    assert embed.a1111_params(record("txt2img", {"rng": "GPU"}))[2]["RNG"] is None


def test_infotext_from_settings_leaves_out_what_does_not_check():
    assert infotext_from_settings({"rng": "NV", "variation_strength": 7}, "Euler a") == {}
    assert infotext_from_settings({"rng": "NV", "ensd": 9, "eta": "0"}, "Euler a") == {"RNG": "NV"}


def test_search_finds_renders_by_rng_source(catalogue):
    from atlas.core.catalogue.tables import Pass, Render
    from atlas.core.search import sql

    with catalogue.session() as session:
        for name, settings in {"nv": {"rng": "NV"}, "gpu": {"rng": "GPU"}, "none": {}}.items():
            render = Render(sha256=name * 16, format="png", width=8, height=8, size_bytes=1, store_path=name)
            session.add(render)
            session.flush()
            session.add(Pass(kind="import", status="completed", render_id=render.id, settings=settings))
        session.commit()
        assert [r.store_path for r in sql.search(session, "rng:nv")] == ["nv"]
        assert sorted(r.store_path for r in sql.search(session, "-rng:NV")) == ["gpu", "none"]
