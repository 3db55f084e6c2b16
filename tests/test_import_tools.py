"""One reader per tool: files built from each tool's documented format (tests/support/import_files.py,
and here), one per format and case, read through the import's own path (extraction, then the reader),
every field checked."""

import io
import json

import piexif
import piexif.helper
import pytest

from atlas.core.importers.batch import import_paths
from atlas.core.importers.generation import INT64_MAX, Generation
from atlas.core.importers.reader import FileFacts, read_file
from atlas.core.search import sql as search
from tests.support import FIXTURES
from tests.support.import_files import (
    BUILDERS,
    base_graph,
    civitai_doc,
    drawthings_xmp,
    easy_fields,
    fooocus_doc,
    fooocus_jpeg,
    invokeai_metadata,
    jpeg,
    novelai_chunks,
    novelai_comment,
    novelai_png,
    png,
    ruined_doc,
    space_doc,
    stealth_image,
    swarm_doc,
    tensorart_png,
    user_comment_exif,
    webp,
)

BIG_SEED = 18446744073709551615  # 2**64 - 1: ComfyUI's and Fooocus' largest seed, past the 64-bit column


# --- builders ------------------------------------------------------------------------------------


def read(tmp_path, name: str, data: bytes) -> FileFacts:
    path = tmp_path / name
    path.write_bytes(data)
    facts = read_file(str(path))
    assert facts.error is None, facts.error
    assert path.read_bytes() == data  # the source is never modified
    return facts


def gen_of(tmp_path, name: str, data: bytes) -> Generation:
    facts = read(tmp_path, name, data)
    assert facts.problem is None, facts.problem
    assert facts.generation is not None
    return facts.generation


def fields(gen: Generation) -> tuple:
    return (gen.tool, gen.prompt, gen.negative_prompt, gen.seed, gen.sampler, gen.steps, gen.cfg, gen.width,
            gen.height, gen.settings.get("model"), gen.settings.get("model_hash"))


# --- NovelAI -------------------------------------------------------------------------------------


V4_PROMPT = {"caption": {"base_caption": "2girls, cafe, masterpiece", "char_captions": [
    {"char_caption": "hatsune miku, teal twintails", "centers": [{"x": 0.3, "y": 0.5}]},
    {"char_caption": "girl with a red scarf", "centers": [{"x": 0.7, "y": 0.5}]}]},
    "use_coords": True, "use_order": True}
V4_NEGATIVE = {"caption": {"base_caption": "lowres, blurry", "char_captions": [
    {"char_caption": "glasses", "centers": [{"x": 0.3, "y": 0.5}]},
    {"char_caption": "", "centers": [{"x": 0.7, "y": 0.5}]}]}, "legacy_uc": False}


NOVELAI = ("NovelAI", "2girls, cafe, masterpiece", "lowres, blurry", 3177711254, "DPM++ 2M", 28, 5.5, 832, 1216,
           "Stable Diffusion XL", "C1E1DE52")


def test_novelai_png(tmp_path):
    gen = gen_of(tmp_path, "nai.png", novelai_png())
    assert fields(gen) == NOVELAI
    assert (gen.settings["sampler_original"], gen.settings["schedule_type"]) == ("k_dpmpp_2m", "Karras")
    assert gen.denoise is None  # txt2img: its `strength` is no denoise
    assert gen.settings["novelai"]["signed_hash"] == "c2lnbmVk" and gen.settings["generation_time"] == "3.1"


def test_novelai_webp_exif(tmp_path):
    """NovelAI's WebP: the chunks as a JSON object in UserComment, Software and the Description as EXIF tags."""
    chunks = novelai_chunks(novelai_comment())
    exif = user_comment_exif(json.dumps(chunks), software="NovelAI", description="\0\0\0\0" + chunks["Description"])
    assert fields(gen_of(tmp_path, "nai.webp", webp(exif))) == NOVELAI


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_novelai_stealth_alpha(tmp_path, fmt):
    """NovelAI's alpha-channel metadata: the chunks as gzipped JSON in the alpha's low bits (stealth_pngcomp)."""
    chunks = novelai_chunks(novelai_comment())
    image = stealth_image(json.dumps(chunks), b"stealth_pngcomp", "RGBA", size=(96, 96))
    out = io.BytesIO()
    image.save(out, fmt, **({"lossless": True, "exact": True} if fmt == "WEBP" else {}))
    assert fields(gen_of(tmp_path, f"nai.{fmt.lower()}", out.getvalue())) == NOVELAI


def test_novelai_v4_character_prompts_kept_and_searchable(catalogue, tmp_path):
    comment = novelai_comment(v4_prompt=V4_PROMPT, v4_negative_prompt=V4_NEGATIVE, sampler="k_euler_ancestral")
    path = tmp_path / "v4.png"
    path.write_bytes(png(novelai_chunks(comment, source="NovelAI Diffusion V4.5 4BDE2A90")))
    gen = gen_of(tmp_path, "v4-copy.png", path.read_bytes())
    assert gen.prompt == "2girls, cafe, masterpiece\nhatsune miku, teal twintails\ngirl with a red scarf"
    assert gen.negative_prompt == "lowres, blurry\nglasses"
    assert gen.settings["base_prompt"] == "2girls, cafe, masterpiece"
    assert [c["prompt"] for c in gen.settings["characters"]] == ["hatsune miku, teal twintails",
                                                                 "girl with a red scarf"]
    assert gen.settings["characters"][0]["centers"] == [{"x": 0.3, "y": 0.5}]
    assert (gen.sampler, gen.settings["model"], gen.settings["model_hash"]) == ("Euler a", "NovelAI Diffusion V4.5",
                                                                                "4BDE2A90")
    report = import_paths(catalogue, [path], workers=1)
    rid = report.imported[0]["id"]
    with catalogue.session() as session:
        assert [r.id for r in search.search(session, "twintails")] == [rid]
        assert [r.id for r in search.search(session, "negative:glasses")] == [rid]
        assert [r.id for r in search.search(session, 'sampler:"Euler a"')] == [rid]
        assert [r.id for r in search.search(session, "sampler:k_euler_ancestral")] == [rid]


def test_novelai_img2img_strength_is_its_denoise(tmp_path):
    comment = novelai_comment(request_type="Img2ImgRequest", strength=0.55, noise=0.1, extra_noise_seed=9)
    gen = gen_of(tmp_path, "i2i.png", png(novelai_chunks(comment)))
    assert gen.denoise == 0.55 and gen.settings["novelai"]["noise"] == 0.1


def test_novelai_unreadable_comment_is_a_reason(tmp_path):
    chunks = novelai_chunks(novelai_comment())
    chunks["Comment"] = '{"prompt": "cut'
    facts = read(tmp_path, "bad.png", png(chunks))
    assert facts.generation is None and "NovelAI metadata whose Comment is not a JSON object" in facts.problem


# --- InvokeAI ------------------------------------------------------------------------------------


INVOKEAI = ("InvokeAI", "a glass teapot, studio light", "blurry", 1234567890, "DPM++ 2M", 32, 6.0, 1024, 768,
            "juggernautXL_v9", "blake3:5e1d0a0c2f")


def test_invokeai_metadata_model_name_and_hash(tmp_path):
    gen = gen_of(tmp_path, "inv.png", png({"invokeai_metadata": json.dumps(invokeai_metadata())}))
    assert fields(gen) == INVOKEAI
    assert (gen.settings["sampler_original"], gen.settings["schedule_type"]) == ("dpmpp_2m_k", "Karras")
    assert (gen.settings["model_base"], gen.settings["app_version"]) == ("sdxl", "5.4.2")


def test_invokeai_sdxl_refiner_is_a_second_pass(tmp_path):
    doc = {**invokeai_metadata(), "refiner_model": {"key": "r1", "hash": "blake3:77aa", "name": "sdxl_refiner_1.0",
                                                    "base": "sdxl-refiner", "type": "main"},
           "refiner_cfg_scale": 5.0, "refiner_steps": 20, "refiner_scheduler": "euler", "refiner_start": 0.8,
           "refiner_positive_aesthetic_score": 6.0, "refiner_negative_aesthetic_score": 2.5}
    gen = gen_of(tmp_path, "ref.png", png({"invokeai_metadata": json.dumps(doc)}))
    [base] = gen.earlier
    assert fields(base) == INVOKEAI and base.settings["pass"]["name"] == "base"
    assert fields(gen) == ("InvokeAI", "a glass teapot, studio light", "blurry", None, "Euler", 20, 5.0, 1024, 768,
                           "sdxl_refiner_1.0", "blake3:77aa")
    assert gen.denoise == pytest.approx(0.2) and gen.settings["pass"] == {"index": 2, "of": 2, "name": "refiner"}


def invokeai_hires(**extra) -> dict:
    """A hires fix as InvokeAI writes it: width and height are the final size."""
    return {**invokeai_metadata(), "width": 1536, "height": 1152, "hrf_enabled": True, "hrf_method": "ESRGAN",
            "hrf_strength": 0.45, "hrf_scale": 1.5, **extra}


def test_invokeai_hires_fix_is_a_second_pass(tmp_path):
    gen = gen_of(tmp_path, "hrf.png", png({"invokeai_metadata": json.dumps(invokeai_hires())}))
    [base] = gen.earlier
    assert fields(base) == INVOKEAI  # 1536x1152 over the scale 1.5: the base's 1024x768
    assert base.settings["pass"] == {"index": 1, "of": 2, "name": "base"}
    assert fields(gen) == ("InvokeAI", "a glass teapot, studio light", "blurry", 1234567890, "DPM++ 2M", 32, 6.0,
                           1536, 1152, "juggernautXL_v9", "blake3:5e1d0a0c2f")
    assert gen.denoise == 0.45 and gen.settings["hrf_method"] == "ESRGAN"
    assert gen.settings["pass"] == {"index": 2, "of": 2, "name": "hires fix"}


def test_invokeai_hires_fix_without_its_scale_leaves_the_base_size_unknown(tmp_path):
    doc = invokeai_hires(hrf_method="latent")
    del doc["hrf_scale"]
    gen = gen_of(tmp_path, "hrf.png", png({"invokeai_metadata": json.dumps(doc)}))
    [base] = gen.earlier
    assert (base.width, base.height, base.seed, base.steps) == (None, None, 1234567890, 32)
    assert (gen.width, gen.height, gen.denoise, gen.settings["hrf_method"]) == (1536, 1152, 0.45, "latent")


def test_invokeai_hires_fix_then_refiner_is_three_passes_each_searchable(catalogue, tmp_path):
    doc = invokeai_hires(refiner_model={"key": "r1", "hash": "blake3:77aa", "name": "sdxl_refiner_1.0",
                                        "base": "sdxl-refiner", "type": "main"},
                         refiner_cfg_scale=5.0, refiner_steps=20, refiner_scheduler="euler", refiner_start=0.8)
    path = tmp_path / "three.png"
    path.write_bytes(png({"invokeai_metadata": json.dumps(doc)}))
    gen = gen_of(tmp_path, "three.png", path.read_bytes())
    base, hires = gen.earlier
    assert [p.settings["pass"]["name"] for p in (base, hires, gen)] == ["base", "hires fix", "refiner"]
    assert (base.width, hires.width, gen.width) == (1024, 1536, 1536)
    assert (hires.denoise, gen.denoise) == (0.45, pytest.approx(0.2)) and gen.seed is None
    report = import_paths(catalogue, [path], workers=1)
    [entry] = report.imported
    with catalogue.session() as session:
        for query in ("seed:1234567890", "model:sdxl_refiner_1.0", "model:juggernautXL_v9", "steps:32",
                      "steps:20", "denoise:0.45", 'sampler:"DPM++ 2M"', "sampler:Euler"):
            assert [r.id for r in search.search(session, query)] == [entry["id"]], query
        assert search.search(session, "denoise:0.5") == [] and search.search(session, "steps:21") == []


def test_invokeai_graph_metadata_node(tmp_path):
    graph = {"id": "g", "nodes": {"core_metadata": {"id": "core_metadata", "type": "core_metadata",
                                                    **invokeai_metadata()}}, "edges": []}
    gen = gen_of(tmp_path, "graph.png", png({"invokeai_graph": json.dumps(graph)}))
    assert fields(gen) == INVOKEAI


def test_invokeai_graph_nodes(tmp_path):
    """A graph without a metadata node: loader, noise, prompt and denoise nodes, joined by edges."""
    def edge(source, field):
        return {"source": {"node_id": source, "field": "conditioning"},
                "destination": {"node_id": "denoise_latents", "field": field}}

    graph = {"id": "g", "nodes": {
        "noise": {"id": "noise", "type": "noise", "seed": 4242, "width": 768, "height": 512, "use_cpu": True},
        "main_model_loader": {"id": "main_model_loader", "type": "main_model_loader",
                              "model": {"model_name": "dreamshaper_8", "base_model": "sd-1", "model_type": "main"}},
        "positive": {"id": "positive", "type": "compel", "prompt": "a castle on a cliff"},
        "negative": {"id": "negative", "type": "compel", "prompt": "fog"},
        "denoise_latents": {"id": "denoise_latents", "type": "denoise_latents", "cfg_scale": 7.5,
                            "scheduler": "euler_a", "steps": 30, "denoising_start": 0, "denoising_end": 1}},
        "edges": [edge("positive", "positive_conditioning"), edge("negative", "negative_conditioning")]}
    gen = gen_of(tmp_path, "nodes.png", png({"invokeai_graph": json.dumps(graph)}))
    assert fields(gen) == ("InvokeAI", "a castle on a cliff", "fog", 4242, "Euler a", 30, 7.5, 768, 512,
                           "dreamshaper_8", None)


def test_invokeai_real_files_every_generation(tmp_path):
    """sd-parsers' InvokeAI files: Dream (1.x), sd-metadata (2.x, with the model's sha256), invokeai_metadata (3.x)."""
    root = FIXTURES / "parsers/InvokeAI"
    dream = gen_of(tmp_path, "d.png", (root / "invokeai_dream1.png").read_bytes())
    sdmeta = gen_of(tmp_path, "s.png", (root / "invokeai_sdmeta1.png").read_bytes())
    imeta = gen_of(tmp_path, "i.png", (root / "invokeai_imeta1.png").read_bytes())
    assert fields(dream)[3:9] == (2980747362, "LMS", 50, 5.0, 512, 768)
    assert dream.negative_prompt == "rendering, glowing eyes, skinny" and dream.prompt.endswith("low contrast")
    assert dream.settings["dream_options"] == {"-G": "0.9", "-cf": "0.75", "-U": "4 0.95"}
    assert fields(sdmeta) == ("InvokeAI", dream.prompt, dream.negative_prompt, 2980747362, "LMS", 50, 5.0, 512, 768,
                              "deliberateForInvoke_v08",
                              "56d1442a0feefd64836a19ac8e3527ec71c884fc962e246ddf67b03e42921272")
    assert sdmeta.settings["app_version"] == "2.3.0"
    assert fields(imeta) == ("InvokeAI", "digital artwork, oil painting. painterly brushstrokes, holidays,",
                             "grainy+, photo, oversaturated, overexposed, blurry, compressed jpg+, noisy++, unfocused "
                             ", black and white", 3293022630, "Euler", 35, 8.0, 1024, 1024, "juggernautXL", None)
    assert imeta.settings["model_base"] == "sdxl"


# --- Fooocus, RuinedFooocus, Hugging Face Spaces ------------------------------------------------


FOOOCUS = ("Fooocus", "a paper boat", "low quality", 6952411511246973023, "DPM++ 2M SDE", 30, 4.0, 1152, 896,
           "juggernautXL_v8Rundiffusion", "aeb7e9e689")


def test_fooocus_png_and_jpeg(tmp_path):
    gen = gen_of(tmp_path, "f.png", png({"parameters": json.dumps(fooocus_doc()), "fooocus_scheme": "fooocus"}))
    assert fields(gen) == FOOOCUS
    assert (gen.settings["sampler_original"], gen.settings["schedule_type"]) == ("dpmpp_2m_sde_gpu", "Karras")
    assert gen.settings["fooocus"]["full_prompt"] == ["a paper boat, origami"]
    assert fields(gen_of(tmp_path, "f.jpg", fooocus_jpeg())) == FOOOCUS


def test_fooocus_refiner_is_a_second_pass(tmp_path):
    doc = {**fooocus_doc(), "refiner_model": "sd_xl_refiner_1.0_0.9vae", "refiner_switch": 0.8}
    gen = gen_of(tmp_path, "f.png", png({"parameters": json.dumps(doc), "fooocus_scheme": "fooocus"}))
    [base] = gen.earlier
    assert fields(base) == FOOOCUS and base.settings["pass"]["name"] == "base"
    assert fields(gen) == ("Fooocus", "a paper boat", "low quality", None, "DPM++ 2M SDE", 30, 4.0, 1152, 896,
                           "sd_xl_refiner_1.0_0.9vae", None)
    assert gen.denoise == pytest.approx(0.2) and gen.settings["schedule_type"] == "Karras"


def test_fooocus_real_file(tmp_path):
    gen = gen_of(tmp_path, "f.png", (FIXTURES / "parsers/Fooocus/fooocus1_cropped.png").read_bytes())
    assert fields(gen) == ("Fooocus", "a smiling goldfish", "", 6952411511246973023, "DPM++ 2M SDE", 30, 4.0, 768,
                           1280, "juggernautXL_v8Rundiffusion", "aeb7e9e689")


def test_ruined_fooocus(tmp_path):
    gen = gen_of(tmp_path, "r.png", png({"parameters": json.dumps(ruined_doc())}))
    assert fields(gen) == ("RuinedFooocus", "a fox in a library", "text", 98765, "DPM++ 2M SDE", 30, 8.0, 1152, 896,
                           "sd_xl_base_1.0_0.9vae.safetensors", "e6bb9ea85b")
    assert gen.settings["schedule_type"] == "Karras"


def test_hugging_face_space_json(tmp_path):
    gen = gen_of(tmp_path, "hf.png", png({"parameters": json.dumps(space_doc())}))
    assert fields(gen) == ("Hugging Face Space", "1girl, cherry blossoms", "lowres", 1234, "Euler a", 28, 7.0, 832,
                           1216, "Animagine XL 3.1", "e3c47aedb0")


def test_unknown_json_parameters_is_a_reason(tmp_path):
    facts = read(tmp_path, "odd.png", png({"parameters": json.dumps({"colour": "teal", "layers": 3})}))
    assert facts.generation is None and "JSON parameters text of no tool atlas reads" in facts.problem


def test_json_cut_short_is_a_reason_never_a_prompt(tmp_path):
    text = json.dumps(fooocus_doc())[:-40]
    facts = read(tmp_path, "cut.png", png({"parameters": text}))
    assert facts.generation is None and "parameters text that opens as JSON but is not valid JSON" in facts.problem


def test_comfyui_without_a_sampler_or_api_graph_is_a_reason(tmp_path):
    graph = {k: v for k, v in base_graph().items() if k != "3"}  # the KSampler gone
    facts = read(tmp_path, "nosampler.png", png({"prompt": json.dumps(graph)}))
    assert facts.generation is None and "ComfyUI graph with no sampler" in facts.problem
    facts = read(tmp_path, "ui.png", png({"workflow": json.dumps({"nodes": [], "links": []})}))
    assert facts.generation is None and "ComfyUI workflow without its API graph" in facts.problem


# --- SwarmUI, Civitai, TensorArt -----------------------------------------------------------------


SWARM = ("SwarmUI", "a teapot", "blur", 1234, "DPM++ 2M", 25, 5.5, 1024, 1024, "sd_xl_base_1.0", "0x31e35c80fc")


@pytest.mark.parametrize("fmt", ["jpg", "webp"])
def test_swarmui_jpeg_and_webp(tmp_path, fmt):
    exif = user_comment_exif(json.dumps(swarm_doc()))
    gen = gen_of(tmp_path, f"s.{fmt}", jpeg(exif) if fmt == "jpg" else webp(exif))
    assert fields(gen) == SWARM
    assert (gen.settings["sampler_original"], gen.settings["schedule_type"]) == ("dpmpp_2m", "Karras")


def test_swarmui_refine_upscale_is_a_second_pass(catalogue, tmp_path):
    doc = swarm_doc(seed=777)
    doc["sui_image_params"].update({"refinermethod": "PostApply", "refinercontrolpercentage": 0.4,
                                    "refinermodel": "sd_xl_refiner_1.0", "refinersteps": 12,
                                    "refinerupscale": 1.5, "refinerupscalemethod": "pixel-lanczos"})
    path = tmp_path / "refined.jpg"
    path.write_bytes(jpeg(user_comment_exif(json.dumps(doc))))
    gen = gen_of(tmp_path, "refined-copy.jpg", path.read_bytes())
    [base] = gen.earlier
    assert fields(base) == (*SWARM[:3], 777, *SWARM[4:])
    assert fields(gen) == ("SwarmUI", "a teapot", "blur", None, "DPM++ 2M", 12, 5.5, None, None, "sd_xl_refiner_1.0",
                           None)
    assert gen.denoise == 0.4 and gen.settings["schedule_type"] == "Karras"
    rid = import_paths(catalogue, [path], workers=1).imported[0]["id"]
    with catalogue.session() as session:  # the base pass's seed and model are found too
        assert [r.id for r in search.search(session, "seed:777")] == [rid]
        assert [r.id for r in search.search(session, "model:sd_xl_base_1.0")] == [rid]


def test_civitai_json_user_comment(tmp_path):
    gen = gen_of(tmp_path, "c.jpg", jpeg(user_comment_exif(json.dumps(civitai_doc()))))
    assert fields(gen) == ("Civitai", "a koi pond", "text", 555, "DPM++ 2M", 25, 4.0, 832, 1216, None, None)
    assert gen.settings["schedule_type"] == "Karras" and gen.settings["base_model"] == "SDXL"
    assert gen.settings["civitai_resources"] == ["urn:air:sdxl:checkpoint:civitai:101055@128078"]


def test_civitai_json_graph_only(tmp_path):
    gen = gen_of(tmp_path, "c.jpg", jpeg(user_comment_exif(json.dumps(civitai_doc(extra=False)))))
    assert fields(gen)[:9] == ("Civitai", "a red fox in snow\n", "blurry", 555, "Euler a", 28, 6.5, 832, 1216)
    assert gen.settings["model"] == "sd_xl_base_1.0.safetensors"


def test_civitai_png_chunks(tmp_path):
    doc = civitai_doc()
    chunks = {"prompt": json.dumps(base_graph(seed=555)), "extraMetadata": doc["extraMetadata"],
              "extra": json.dumps(doc["extra"])}
    gen = gen_of(tmp_path, "c.png", png(chunks))
    assert fields(gen) == ("Civitai", "a koi pond", "text", 555, "DPM++ 2M", 25, 4.0, 832, 1216, None, None)
    assert gen.settings["civitai_resources"] == ["urn:air:sdxl:checkpoint:civitai:101055@128078"]


def test_tensorart(tmp_path):
    gen = gen_of(tmp_path, "t.png", tensorart_png())
    assert fields(gen) == ("TensorArt", "a neon street", "lowres", 2865291847, "Euler a", 30, 7.0, 768, 1152,
                           "majicmixRealistic_v7", "7C819B6D13")  # the sampler from the graph beside it
    assert gen.settings["tensorart"]["clipSkip"] == 2


# --- Easy Diffusion, Draw Things -----------------------------------------------------------------


EASY = ("Easy Diffusion", "a red bicycle", "people", 42, "Euler a", 25, 7.5, 512, 768, "sd-v1-5.safetensors", None)


def test_easy_diffusion_png_chunks_and_jpeg_json(tmp_path):
    chunks = {key: str(value) for key, value in easy_fields().items()}  # one chunk per field, as text
    assert fields(gen_of(tmp_path, "e.png", png(chunks))) == EASY
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: json.dumps(easy_fields()).encode()}})
    assert fields(gen_of(tmp_path, "e.jpg", jpeg(exif))) == EASY


DRAW_THINGS = ("Draw Things", "a lighthouse at dusk", "fog", 3344, "DPM++ 2M", 20, 4.5, 1024, 768,
               "sd_xl_base_1.0_f16.ckpt", None)


def test_draw_things_png_and_jpeg_xmp(tmp_path):
    gen = gen_of(tmp_path, "d.png", png({"XML:com.adobe.xmp": drawthings_xmp()}))
    assert fields(gen) == DRAW_THINGS and gen.denoise is None  # strength 1: txt2img
    assert gen.settings["schedule_type"] == "Karras"
    assert fields(gen_of(tmp_path, "d.jpg", jpeg(xmp=drawthings_xmp().encode()))) == DRAW_THINGS


# --- every reader: seeds past 64 bits, one file's values never on another -----------------------


@pytest.mark.parametrize("tool", sorted(BUILDERS))
def test_seeds_past_64_bits_are_kept_as_text(tmp_path, tool):
    name, data = BUILDERS[tool](BIG_SEED)
    gen = gen_of(tmp_path, name, data)
    assert gen.tool == tool
    assert gen.seed is None and gen.settings["seed"] == str(BIG_SEED)
    name, data = BUILDERS[tool](INT64_MAX)  # the largest seed the column holds stays a number
    gen = gen_of(tmp_path, name, data)
    assert gen.seed == INT64_MAX and "seed" not in gen.settings


def test_a_folder_of_every_tool_keeps_each_files_values(catalogue, tmp_path):
    """Files of every reader side by side, each with its own seed: each record has its own file's seed."""
    root = tmp_path / "tools"
    root.mkdir()
    seeds = {}
    for i, tool in enumerate(sorted(BUILDERS)):
        name, data = BUILDERS[tool](1000 + i)
        (root / f"{i:02}_{name}").write_bytes(data)
        (root / f"{i:02}_{name}.none.png").write_bytes(png({}))  # no metadata between each
        seeds[str(root / f"{i:02}_{name}")] = (tool, 1000 + i)
    report = import_paths(catalogue, [root], workers=1)
    assert len(report.imported) == len(BUILDERS) and len(report.no_metadata) == 1  # the empty PNGs: one sha256
    from atlas.core.record.build import producing_pass

    with catalogue.session() as session:
        for item in report.imported:
            step = producing_pass(session, item["id"])
            assert (item["tool"], step.seed) == seeds[item["path"]]


def test_stealth_json_holds_no_other_tool(tmp_path):
    """A1111 stealth text that is an infotext stays an infotext (the JSON forms are NovelAI's alone)."""
    image = stealth_image("a circle\nSteps: 5, Sampler: Euler, CFG scale: 7, Seed: 9, Size: 40x30",
                          b"stealth_pnginfo")
    out = io.BytesIO()
    image.save(out, "PNG")
    gen = gen_of(tmp_path, "s.png", out.getvalue())
    assert (gen.tool, gen.prompt, gen.seed, gen.sampler) == ("AUTOMATIC1111", "a circle", 9, "Euler")


# --- hostile metadata: every reader gives a reason or values, never an exception ---------------

JUNK = [None, True, -1, 0, 2**64, 10**30, 1e308, float("inf"), float("nan"), "", "x" * 40, [], {}, [1, "a"],
        {"a": None}, "Infinity", "\0\ud7ff😀", "-1e999", "[", "{}"]
FUZZ_PER_READER = 5000


def mutate_json(rng, value, depth=0):
    if rng.random() < 0.12:
        return rng.choice(JUNK)
    if isinstance(value, dict):
        return {k: mutate_json(rng, v, depth + 1) for k, v in value.items() if rng.random() > 0.08}
    if isinstance(value, list):
        return [mutate_json(rng, v, depth + 1) for v in value if rng.random() > 0.08]
    if isinstance(value, str) and value.lstrip().startswith("{") and depth < 8:  # JSON inside JSON
        try:
            return json.dumps(mutate_json(rng, json.loads(value), depth + 1))
        except ValueError:
            return value
    return value


def mutate_raw(rng, raw: dict) -> dict:
    out = {}
    for key, text in raw.items():
        choice = rng.random()
        if choice < 0.05:
            continue
        try:
            doc = json.loads(text.rstrip("\0"))
        except ValueError:
            doc = None
        if doc is not None and choice < 0.75:
            text = json.dumps(mutate_json(rng, doc))
        elif choice < 0.9:
            text = text[: rng.randint(0, len(text))]
        else:
            chars = list(text)
            for _ in range(rng.randint(1, 8)):
                if chars:
                    chars[rng.randrange(len(chars))] = rng.choice("{}[]\",:\0 -[]x9")
            text = "".join(chars)
        out[key] = text
    return out


def test_fuzz_every_reader_gives_values_or_a_reason():
    import random

    from atlas.core.errors import BadInput
    from atlas.core.importers.extract import extract
    from atlas.core.importers.tools import interpret

    rng = random.Random(2026)
    bases = {tool: extract(build(7)[1]) for tool, build in BUILDERS.items()}
    for rel in ("InvokeAI/invokeai_dream1.png", "InvokeAI/invokeai_sdmeta1.png", "NovelAI/novelai1_cropped.png"):
        bases[rel] = extract((FIXTURES / "parsers" / rel).read_bytes())
    outcomes = {"values": 0, "reason": 0, "none": 0}
    for base in bases.values():
        for _ in range(FUZZ_PER_READER):
            raw = mutate_raw(rng, base)
            try:
                gen = interpret(raw)
            except BadInput as exc:
                assert str(exc)
                outcomes["reason"] += 1
                continue
            if gen is None:
                outcomes["none"] += 1
                continue
            outcomes["values"] += 1
            for step in [*gen.earlier, gen]:
                assert (step.tool is None or isinstance(step.tool, str)) and isinstance(step.prompt, str)
                assert isinstance(step.negative_prompt, str)
                assert step.seed is None or (isinstance(step.seed, int) and abs(step.seed) <= INT64_MAX)
                for number in (step.steps, step.width, step.height):
                    assert number is None or type(number) is int
                for number in (step.cfg, step.denoise):
                    assert number is None or (isinstance(number, float) and number == number
                                              and abs(number) != float("inf"))
                assert step.sampler is None or isinstance(step.sampler, str)
                json.dumps(step.settings, allow_nan=False)  # storable as standard JSON (PostgreSQL's jsonb)
    assert min(outcomes.values()) > 500, outcomes  # the mutations reach values, reasons and refusals alike


def test_the_report_counts_metadata_atlas_could_not_read_apart(tmp_path, cli):
    folder = tmp_path / "mixed"
    folder.mkdir()
    chunks = novelai_chunks(novelai_comment())
    chunks["Comment"] = '{"prompt": "cut'  # NovelAI's metadata, damaged
    (folder / "damaged.png").write_bytes(png(chunks))
    (folder / "plain.png").write_bytes(png({}, size=(16, 16)))  # no metadata at all
    (folder / "a1111.png").write_bytes(png({"parameters": "a fox\nSteps: 20, Sampler: Euler, Seed: 7"}, size=(8, 8)))
    report = cli("import", folder, "--json").json()
    assert report["counts"] == {"imported": 1, "no_generation_metadata": 2, "metadata_unreadable": 1,
                                "skipped": 0, "unreadable": 0}
    reasons = {entry["path"].rsplit("/", 1)[1]: entry["reason"] for entry in report["no_generation_metadata"]}
    assert reasons["plain.png"] == "no generation metadata found"
    assert "NovelAI metadata whose Comment is not a JSON object" in reasons["damaged.png"]
    again = tmp_path / "again"
    again.mkdir()
    (again / "damaged.png").write_bytes(png(chunks, size=(24, 16)))
    assert cli("import", again).out.strip() == (
        "imported 0, no generation metadata 1 (1 with metadata atlas could not read), skipped 0, unreadable 0")
