"""Sampler and schedule names: A1111's facts per sampler, old combined names, what a record means,
and what a render records and writes. (The sampling itself: tests/test_sampler_parity.py.)"""

import pytest

from atlas.core.errors import BadInput
from atlas.core.record.samplers import SAMPLERS, SCHEDULES, canonical, recorded, resolve, split
from atlas.core.sampler_names import A1111_NAMES, SCHEDULE_TYPES

# A1111 1.10's sampler table (modules/sd_samplers_kdiffusion.py): the default ("Automatic") schedule
# of each sampler and the samplers it flags.
A1111_AUTOMATIC = {"Euler a": "Uniform", "Euler": "Uniform", "LMS": "Uniform", "Heun": "Uniform",
                   "DPM2": "Karras", "DPM2 a": "Karras", "DPM++ 2S a": "Karras", "DPM++ 2M": "Karras",
                   "DPM++ SDE": "Karras", "DPM++ 2M SDE": "Exponential", "DPM++ 2M SDE Heun": "Exponential",
                   "DPM++ 3M SDE": "Exponential", "Restart": "Karras"}
DISCARDS_PENULTIMATE = {"DPM2", "DPM2 a", "DPM++ 3M SDE"}
BROWNIAN = {"DPM++ SDE", "DPM++ 2M SDE", "DPM++ 2M SDE Heun", "DPM++ 3M SDE"}
SECOND_ORDER = {"Heun", "DPM2", "DPM2 a", "DPM++ 2S a", "DPM++ SDE", "Restart"}
USES_ENSD = {"Euler a", "DPM2 a", "DPM++ 2S a"}


def test_offered_names_are_a1111s():
    assert set(SAMPLERS) <= set(A1111_NAMES)
    assert set(SCHEDULES) == set(SCHEDULE_TYPES) - {"Automatic"}
    assert {name for name, s in SAMPLERS.items() if s.uses_sigmas} == set(A1111_AUTOMATIC)
    assert {name for name, s in SAMPLERS.items() if not s.uses_sigmas} == {"DDIM", "PLMS", "UniPC"}


@pytest.mark.parametrize("name", list(A1111_AUTOMATIC))
def test_each_sampler_carries_a1111s_flags(name):
    spec = SAMPLERS[name]
    assert resolve(name) == resolve(name, "Automatic") == (name, A1111_AUTOMATIC[name])
    assert spec.discard_next_to_last_sigma == (name in DISCARDS_PENULTIMATE)
    assert spec.brownian_noise == (name in BROWNIAN)
    assert spec.second_order == (name in SECOND_ORDER)
    assert spec.uses_ensd == (name in USES_ENSD)
    assert (spec.solver_type == "heun") == (name == "DPM++ 2M SDE Heun")


@pytest.mark.parametrize("written, expected", [
    ("DPM++ 2M Karras", ("DPM++ 2M", "Karras")),
    ("dpm++ 2m sde heun exponential", ("DPM++ 2M SDE Heun", "Exponential")),
    ("LMS Karras", ("LMS", "Karras")),
    ("Euler SGM Uniform", ("Euler", "SGM Uniform")),
    ("euler a", ("Euler a", None)),
    ("DPM++ 2M SDE Heun", ("DPM++ 2M SDE Heun", None)),
])
def test_old_combined_names_split(written, expected):
    assert split(written) == expected
    assert resolve(written)[1] == (expected[1] or A1111_AUTOMATIC[expected[0]])


def test_canonical_keeps_the_schedule_of_a_combined_name():
    assert canonical("euler A") == "Euler a"
    assert canonical("dpm++ 2m karras") == "DPM++ 2M Karras"  # a request checked early loses nothing
    with pytest.raises(BadInput, match="known samplers: Euler a, Euler"):
        canonical("Euler b")
    with pytest.raises(BadInput, match="unknown sampler"):
        canonical("DDIM Karras")  # DDIM has no sigma schedule to name


def test_explicit_schedules_and_their_errors():
    assert resolve("Euler", "karras") == ("Euler", "Karras")
    assert resolve("DPM++ 2M Karras", "Karras") == ("DPM++ 2M", "Karras")
    assert resolve("DPM++ 2M Karras", "Automatic") == ("DPM++ 2M", "Karras")
    with pytest.raises(BadInput, match="already names schedule type 'Karras'"):
        resolve("DPM++ 2M Karras", "Exponential")
    with pytest.raises(BadInput, match="known schedule types: Automatic, Uniform, Karras"):
        resolve("Euler", "Cosine")
    assert resolve("DDIM", "Karras") == ("DDIM", "Automatic")  # A1111 ignores it for timestep samplers


def test_a_record_without_a_schedule_means_what_the_name_meant_before_19():
    assert recorded("DPM++ 2M", None) == ("DPM++ 2M", "Uniform")
    assert recorded("DPM++ 2M", "Automatic") == ("DPM++ 2M", "Karras")  # A1111 >= 1.9 wrote Automatic
    assert recorded("DPM++ 2M Karras", None) == ("DPM++ 2M", "Karras")
    assert recorded("Euler a", "Uniform") == ("Euler a", "Uniform")
    assert recorded("Restart", None) == ("Restart", "Karras")  # Restart always ran on Karras
    assert recorded("UniPC", None) == ("UniPC", "Automatic")


def test_parameters_write_the_schedule_type_after_the_sampler():
    from atlas.core.files.embed import a1111_params

    step = {"kind": "txt2img", "steps": 6, "sampler": "DPM++ 2M", "settings": {"schedule_type": "Karras"},
            "cfg": 7.0, "seed": 1, "width": 64, "height": 64}
    keys = list(a1111_params({"lineage": [step]})[2])
    assert keys[keys.index("Sampler") + 1] == "Schedule type"
    assert a1111_params({"lineage": [step]})[2]["Schedule type"] == "Karras"


@pytest.mark.parametrize("name", ["DDIM", "PLMS", "UniPC"])
def test_timestep_samplers_run_through_the_engine_as_their_module_says(demo_model_dir, name):
    """The engine's img2img with a mask equals `timestep_samplers.run` driven by hand the way A1111
    drives it (the module itself is checked against the papers in tests/test_timestep_samplers.py):
    noised to the grid point above the first run, the init latent blended into every model input
    and into the result."""
    import torch
    from diffusers import StableDiffusionPipeline

    from atlas.engine import sampling
    from atlas.engine import timestep_samplers as ts
    from atlas.engine.ksampling.discrete import ldm_alphas_cumprod
    from atlas.engine.rng import ImageNoise

    pipe = StableDiffusionPipeline.from_pretrained(demo_model_dir, safety_checker=None, requires_safety_checker=False)
    cond = sampling.encode_prompts(pipe, "a lighthouse", "blurry")
    init = torch.randn((1, 4, 8, 8), generator=torch.Generator().manual_seed(3))
    free = torch.zeros((1, 1, 8, 8))
    free[..., :, 4:] = 1.0  # the right half is made, the left half held
    steps, denoise, seed = 10, 0.6, 1234
    got, run = sampling.img2img_latents(pipe, init, cond, steps, denoise, name, 7.0, [seed], free=free)

    def eps_of(x, t):
        x_in = x * free + init * (1 - free)
        with torch.no_grad():
            out = pipe.unet(torch.cat([x_in, x_in]), torch.tensor([float(t)] * 2),
                            encoder_hidden_states=torch.cat([cond.negative, cond.positive])).sample
        uncond, text = out.chunk(2)
        return uncond + 7.0 * (text - uncond)

    alphas = ldm_alphas_cumprod(pipe.scheduler.config)
    noise = ImageNoise((4, 8, 8), [seed])
    top = ts.img2img_noise_timestep(name, steps, denoise)
    start = alphas[top].sqrt() * init + (1 - alphas[top]).sqrt() * noise.first()
    expected = ts.run(name, eps_of, start, ts.img2img_timesteps(name, steps, denoise), alphas, noise, img2img=True)
    expected = expected * free + init * (1 - free)
    assert run == int(denoise * steps) + 1
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(got[..., :, :4], init[..., :, :4], atol=0, rtol=0)  # held exactly


def test_renders_record_and_write_the_schedule_that_ran(demo_catalogue):
    from sqlmodel import select

    from atlas.core.catalogue.tables import Pass
    from atlas.core.files import png
    from atlas.core.files.embed import PARAMETERS_KEY
    from atlas.core.record.write import RenderInfo
    from atlas.engine.generate import Txt2ImgRequest, generate
    from atlas.engine.passes import Img2ImgRequest, img2img

    made = generate(demo_catalogue, Txt2ImgRequest(prompt="a barn", steps=3, sampler="DPM++ 2M SDE Karras",
                                                   width=64, height=64, seed=3), RenderInfo())
    again = img2img(demo_catalogue, made.id, Img2ImgRequest(steps=3, denoise=0.5, seed=4), RenderInfo())
    other = img2img(demo_catalogue, made.id, Img2ImgRequest(steps=3, denoise=0.5, seed=4, sampler="Euler"),
                    RenderInfo())
    with demo_catalogue.session() as session:
        found = [(p.sampler, p.settings["schedule_type"]) for p in session.exec(select(Pass).order_by(Pass.id))]
    # The img2img pass inherits the sampler and the schedule it ran with; a new sampler gets its own default.
    assert found == [("DPM++ 2M SDE", "Karras"), ("DPM++ 2M SDE", "Karras"), ("Euler", "Uniform")]
    for render, written in ((made, "Sampler: DPM++ 2M SDE, Schedule type: Karras,"),
                            (again, "Sampler: DPM++ 2M SDE, Schedule type: Karras,"),
                            (other, "Sampler: Euler, Schedule type: Uniform,")):
        chunks = png.read_chunks(demo_catalogue.store.path_of(render.store_path).read_bytes())
        assert written in png.texts(chunks)[PARAMETERS_KEY]
