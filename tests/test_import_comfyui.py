"""ComfyUI's API graph, read by atlas's own walker: graphs written here, in PNG text and JPEG EXIF."""

import json
import random
import time

import pytest
from PIL import Image, PngImagePlugin
from sqlmodel import select

from atlas.core.catalogue.tables import Pass
from atlas.core.errors import BadInput
from atlas.core.importers import comfyui
from atlas.core.importers.batch import import_file
from atlas.core.importers.extract import extract
from atlas.core.importers.tools import interpret
from atlas.core.record.build import producing_pass
from atlas.core.search import sql as search
from tests.support.import_files import CKPT, SEED15, base_graph


def png_with(path, graph, key="prompt"):
    info = PngImagePlugin.PngInfo()
    info.add_text(key, json.dumps(graph))
    info.add_text("workflow", json.dumps({"nodes": [], "links": []}))
    Image.new("RGB", (16, 24), (1, 2, 3)).save(path, pnginfo=info)
    return path


def jpeg_with(path, graph, tag):
    image = Image.new("RGB", (16, 24), (1, 2, 3))
    exif = image.getexif()
    exif[tag] = "prompt:" + json.dumps(graph)
    exif[0x010F if tag != 0x010F else 0x010E] = "workflow:" + json.dumps({"nodes": []})
    image.save(path, exif=exif)
    return path


def read(graph) -> list[comfyui.SamplingPass]:
    passes = comfyui.read_graph(json.dumps(graph))
    assert passes is not None
    return passes


def test_plain_ksampler_every_field(tmp_path):
    gen = interpret(extract(png_with(tmp_path / "a.png", base_graph()).read_bytes()))
    assert gen is not None and gen.tool == "ComfyUI" and gen.earlier == []
    assert (gen.prompt, gen.negative_prompt) == ("a red fox in snow\n", "blurry")  # trailing newline kept
    assert (gen.seed, gen.steps, gen.cfg, gen.sampler, gen.denoise) == (SEED15, 28, 6.5, "Euler a", 1.0)
    assert (gen.width, gen.height) == (832, 1216)
    assert gen.settings["model"] == CKPT and gen.settings["scheduler"] == "karras"
    assert (gen.settings["sampler_original"], gen.settings["schedule_type"]) == ("euler_ancestral", "Karras")


@pytest.mark.parametrize("tag", [0x010F, 0x010E, 0x0110])  # Make, ImageDescription, Model
def test_graph_in_jpeg_exif(tmp_path, tag):
    path = jpeg_with(tmp_path / "a.jpg", base_graph(save="Image Save"), tag)
    gen = interpret(extract(path.read_bytes()))
    assert gen is not None and gen.tool == "ComfyUI"
    assert (gen.prompt, gen.seed, gen.settings["model"]) == ("a red fox in snow\n", SEED15, CKPT)


def test_the_saved_image_not_a_preview_beside_it():
    graph = base_graph()
    graph.update({  # a second sampler whose image is only previewed
        "20": {"class_type": "KSampler", "inputs": {
            "seed": 1, "steps": 4, "cfg": 1.0, "sampler_name": "lcm", "scheduler": "sgm_uniform", "denoise": 1.0,
            "model": ["4", 0], "positive": ["7", 0], "negative": ["6", 0], "latent_image": ["5", 0]}},
        "21": {"class_type": "VAEDecode", "inputs": {"samples": ["20", 0], "vae": ["4", 2]}},
        "22": {"class_type": "PreviewImage", "inputs": {"images": ["21", 0]}},
    })
    (only,) = read(graph)
    assert (only.node, only.seed, only.sampler) == ("3", SEED15, "euler_ancestral")
    del graph["9"]  # nothing saves: the preview is the output
    (only,) = read(graph)
    assert (only.node, only.seed, only.sampler) == ("20", 1, "lcm")


def custom_advanced_graph() -> dict:
    return {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "fp8"}},
        "2": {"class_type": "LoraLoaderModelOnly", "inputs": {"lora_name": "style.safetensors",
                                                              "strength_model": 0.8, "model": ["1", 0]}},
        "3": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "t5xxl.safetensors", "clip_name2": "l.sft"}},
        "10": {"class_type": "PrimitiveNode", "inputs": {"value": "a lighthouse at dusk"}},
        "11": {"class_type": "CLIPTextEncode", "inputs": {"text": ["10", 0], "clip": ["3", 0]}},
        "12": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["11", 0]}},
        "13": {"class_type": "CLIPTextEncode", "inputs": {"text": "low quality", "clip": ["3", 0]}},
        "20": {"class_type": "RandomNoise", "inputs": {"noise_seed": SEED15}},
        "21": {"class_type": "CFGGuider", "inputs": {"cfg": 1.5, "model": ["2", 0], "positive": ["12", 0],
                                                     "negative": ["13", 0]}},
        "22": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "dpmpp_2m"}},
        "23": {"class_type": "BasicScheduler", "inputs": {"scheduler": "beta", "steps": 24, "denoise": 1.0,
                                                          "model": ["2", 0]}},
        "24": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768, "batch_size": 1}},
        "25": {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": ["20", 0], "guider": ["21", 0], "sampler": ["22", 0], "sigmas": ["23", 0],
            "latent_image": ["24", 0]}},
        "26": {"class_type": "VAEDecode", "inputs": {"samples": ["25", 0], "vae": ["1", 0]}},
        "27": {"class_type": "SaveImageExtended", "inputs": {"images": ["26", 0]}},
    }


def test_sampler_custom_advanced_with_unet_loader_and_lora():
    (p,) = read(custom_advanced_graph())
    assert (p.seed, p.cfg, p.sampler, p.scheduler, p.steps, p.denoise) == (SEED15, 1.5, "dpmpp_2m", "beta", 24, 1.0)
    assert (p.prompt, p.negative_prompt) == ("a lighthouse at dusk", "low quality")
    assert p.model == "flux1-dev.safetensors"  # never a link such as ["1", 0]
    assert p.settings["loras"] == [{"name": "style.safetensors", "strength_model": 0.8}]
    assert (p.width, p.height) == (1024, 768)


def test_basic_guider_and_a_seed_through_a_primitive():
    graph = custom_advanced_graph()
    graph["21"] = {"class_type": "BasicGuider", "inputs": {"model": ["2", 0], "conditioning": ["12", 0]}}
    graph["30"] = {"class_type": "Seed (rgthree)", "inputs": {"seed": 42}}
    graph["20"]["inputs"]["noise_seed"] = ["30", 0]
    (p,) = read(graph)
    assert (p.seed, p.cfg, p.prompt, p.negative_prompt) == (42, None, "a lighthouse at dusk", "")


def test_prompts_through_primitive_string_switch_and_concatenate_nodes():
    graph = base_graph()
    graph.update({
        "40": {"class_type": "PrimitiveString", "inputs": {"value": "an old map"}},
        "41": {"class_type": "String Literal", "inputs": {"string": "a compass"}},
        "42": {"class_type": "ImpactSwitch", "inputs": {"select": 2, "input1": ["40", 0], "input2": ["41", 0]}},
        "43": {"class_type": "StringConcatenate", "inputs": {"string_a": ["42", 0], "string_b": "sepia",
                                                               "delimiter": ", "}},
        "44": {"class_type": "Power Prompt (rgthree)", "inputs": {"prompt": "ugly, cropped"}},
        "45": {"class_type": "Switch any [Crystools]", "inputs": {"boolean": False, "on_true": "no",
                                                                  "on_false": ["44", 1]}},
    })
    graph["6"]["inputs"]["text"] = ["43", 0]
    graph["7"]["inputs"]["text"] = ["45", 0]
    (p,) = read(graph)
    assert (p.prompt, p.negative_prompt) == ("a compass, sepia", "ugly, cropped")


def test_sdxl_encoder_and_loader_behind_a_noise_select_checkpoint():
    graph = base_graph()
    graph["4"] = {"class_type": "Load Checkpoint w/ Noise Select", "inputs": {"ckpt_name": ["50", 0]}}
    graph["50"] = {"class_type": "Checkpoint Selector", "inputs": {"ckpt_name": "juggernaut.safetensors"}}
    graph["6"] = {"class_type": "CLIPTextEncodeSDXL", "inputs": {"text_g": "a castle", "text_l": "a castle",
                                                                  "width": 4096, "height": 4096, "clip": ["4", 1]}}
    (p,) = read(graph)
    assert (p.prompt, p.model, (p.width, p.height)) == ("a castle", "juggernaut.safetensors", (832, 1216))


def hires_graph() -> dict:
    graph = base_graph(seed=111)
    graph.update({
        "30": {"class_type": "LatentUpscaleBy", "inputs": {"upscale_method": "nearest-exact", "scale_by": 1.5,
                                                            "samples": ["3", 0]}},
        "31": {"class_type": "LatentUpscale", "inputs": {"upscale_method": "bislerp", "width": 1248,
                                                          "height": 1824, "crop": "disabled", "samples": ["30", 0]}},
        "32": {"class_type": "UNETLoader", "inputs": {"unet_name": "refiner.safetensors"}},
        "33": {"class_type": "KSamplerAdvanced", "inputs": {
            "add_noise": "enable", "noise_seed": SEED15, "steps": 20, "cfg": 5.0, "sampler_name": "dpmpp_2m",
            "scheduler": "normal", "start_at_step": 12, "end_at_step": 10000,
            "return_with_leftover_noise": "disable", "model": ["32", 0], "positive": ["6", 0],
            "negative": ["7", 0], "latent_image": ["31", 0]}},
        "34": {"class_type": "VAEDecode", "inputs": {"samples": ["33", 0], "vae": ["4", 2]}},
        "35": {"class_type": "Save Image w/Metadata", "inputs": {"images": ["34", 0]}},
        "9": {"class_type": "PreviewImage", "inputs": {"images": ["8", 0]}},
    })
    return graph


def test_hires_fix_is_two_passes_in_order():
    first, second = read(hires_graph())
    assert (first.node, first.seed, first.steps, first.sampler, first.model) == ("3", 111, 28, "euler_ancestral",
                                                                                  CKPT)
    assert (first.width, first.height, first.denoise) == (832, 1216, 1.0)
    assert (second.node, second.seed, second.steps, second.sampler, second.model) == (
        "33", SEED15, 20, "dpmpp_2m", "refiner.safetensors")
    assert (second.width, second.height) == (1248, 1824)
    assert second.settings == {"start_at_step": 12, "end_at_step": 10000}


def test_hires_fix_imports_as_passes_each_searchable(catalogue, cli, tmp_path):
    render = import_file(catalogue, png_with(tmp_path / "hires.png", hires_graph()))
    other = import_file(catalogue, png_with(tmp_path / "plain.png", base_graph(seed=222)))
    with catalogue.session() as session:
        passes = session.exec(select(Pass).where(Pass.render_id == render.id).order_by(Pass.id)).all()
        assert [(p.kind, p.position, p.seed) for p in passes] == [("import", 0, 111), ("import", None, SEED15)]
        assert [p.settings["pass"] for p in passes] == [{"index": 1, "of": 2}, {"index": 2, "of": 2}]
        assert passes[0].raw_metadata is None and "prompt" in passes[1].raw_metadata
        assert producing_pass(session, render.id).id == passes[1].id
        assert (passes[0].width, passes[1].width) == (832, 1248)
        for query, expected in [("seed:111", [render.id]), (f"seed:{SEED15}", [render.id]),
                                ("seed:222", [other.id]), ("model:refiner*", [render.id]),
                                ("sampler:euler_ancestral", sorted([render.id, other.id])),
                                ("steps:28 tool:comfyui", sorted([render.id, other.id])),
                                ("steps:>25 -seed:222", [render.id]), ("kind:import", sorted([render.id, other.id]))]:
            assert sorted(r.id for r in search.search(session, query)) == expected, query
            assert search.count(session, query) == len(expected), query
    for seed in (111, SEED15):
        result = cli("search", "--json", f"seed:{seed}")
        assert result.code == 0, result.err
        assert [row["id"] for row in json_lines(result.out)] == [render.id]
    listed = json_lines(cli("search", "--json", "tool:comfyui").out)
    assert sorted(row["id"] for row in listed) == sorted([render.id, other.id])  # one row per render
    assert {row["id"]: row["seed"] for row in listed}[render.id] == SEED15  # the pass that made the file


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_add_noise_disabled_has_no_seed_and_a_cycle_is_survived():
    graph = hires_graph()
    graph["33"]["inputs"]["add_noise"] = "disable"
    graph["30"]["inputs"]["samples"] = ["33", 0]  # a cycle between the two samplers' latents
    passes = read(graph)
    assert passes[-1].seed is None and passes[-1].settings["add_noise"] is False


def test_not_a_graph():
    for text in (None, "", "{}", "[]", "prompt:", "{\"1\": 2}", json.dumps({"nodes": [], "links": []}),
                 json.dumps({"1": {"class_type": "SaveImage", "inputs": {"images": ["1", 0]}}})):
        assert comfyui.read_graph(text) is None, text


NODE_KINDS = ["KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced", "SaveImage", "PreviewImage",
              "Image Save", "CLIPTextEncode", "PrimitiveNode", "ImpactSwitch", "StringConcatenate", "CFGGuider",
              "RandomNoise", "BasicScheduler", "KSamplerSelect", "UNETLoader", "LoraLoader", "LatentUpscale",
              "EmptyLatentImage", "VAEDecode", "CheckpointLoaderSimple", 7, None, ["x"]]
INPUT_NAMES = ["seed", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "denoise", "model", "positive",
               "negative", "latent_image", "samples", "images", "text", "value", "select", "input1", "boolean",
               "on_true", "guider", "noise", "sampler", "sigmas", "ckpt_name", "unet_name", "lora_name", "width",
               "height", "conditioning", "string_a", "delimiter", "add_noise"]


def random_value(rng: random.Random, ids: list[str]):
    pick = rng.random()
    if pick < 0.45:
        return [rng.choice(ids + ["missing", "0"]), rng.choice([0, 1, "0", -1])]
    return rng.choice([0, -1, 2 ** 64, 2 ** 70, 1.5, float("nan"), True, None, "", "text", "disable", [],
                       {"a": 1}, ["1"], [1, 2, 3], "9" * 30])


def random_graph(rng: random.Random) -> dict:
    ids = [str(i) for i in range(rng.randint(1, 40))]
    graph = {}
    for node_id in ids:
        if rng.random() < 0.05:
            graph[node_id] = rng.choice([None, 3, "x", [], {"inputs": 5}])
            continue
        inputs = {name: random_value(rng, ids) for name in rng.sample(INPUT_NAMES, rng.randint(0, 10))}
        graph[node_id] = {"class_type": rng.choice(NODE_KINDS), "inputs": inputs}
    if rng.random() < 0.2:  # a deep chain of primitives ending in a cycle
        for i in range(200):
            graph[f"c{i}"] = {"class_type": "PrimitiveNode", "inputs": {"value": [f"c{(i + 1) % 200}", 0]}}
        graph[ids[0]] = {"class_type": "KSampler", "inputs": {"seed": ["c0", 0], "positive": ["c5", 0],
                                                              "model": ["c7", 0], "latent_image": ["c9", 0]}}
    return graph


def test_fuzz_graph_walker_gives_a_result_or_none_never_an_error():
    rng = random.Random(12)
    started, found = time.perf_counter(), 0
    for _ in range(5000):
        graph = random_graph(rng)
        text = json.dumps(graph) if rng.random() < 0.9 else json.dumps(graph)[: rng.randint(0, 200)]
        t0 = time.perf_counter()
        passes = comfyui.read_graph(text)
        assert time.perf_counter() - t0 < 1.0  # bounded per graph
        if passes is not None:
            found += 1
            for p in passes:
                assert p.seed is None or isinstance(p.seed, int)
                assert p.model is None or isinstance(p.model, str)  # never an unresolved link
                assert isinstance(p.prompt, str) and isinstance(p.negative_prompt, str)
        try:
            gen = interpret({"prompt": text})
        except BadInput as exc:  # a graph with no sampler behind its image: said so, with the reason
            assert "ComfyUI graph" in str(exc)
            continue
        assert gen is None or gen.tool is not None
    assert found > 100  # the generator reaches the samplers, not only the refusals
    assert time.perf_counter() - started < 120


def test_fixture_graphs_give_every_pass():
    """sd-parsers' ComfyUI files: the file's own pass as before, and now the passes before it."""
    from tests.support import FIXTURES

    def passes(name):
        return read(json.loads(Image.open(FIXTURES / "parsers" / "ComfyUI" / name).text["prompt"]))

    base, hires = passes("night_evening_day_morning_cropped.png")
    assert (base.seed, base.steps, base.sampler, base.model, base.width, base.height) == (
        335608130539327, 13, "dpmpp_sde", "Anything-V3.0.ckpt", 704, 1280)
    assert (hires.seed, hires.model, hires.width, hires.height) == (1122440447966177,
                                                                    "AbyssOrangeMix2_hard.safetensors", 1088, 1920)
    noisy = passes("noisy_latents_3_subjects_cropped.png")
    assert [p.node for p in noisy] == ["57", "60", "64", "73", "58", "24"]  # four subjects, the merge, the upscale
    assert noisy[4].seed is None and noisy[4].settings["add_noise"] is False  # it adds no noise: no seed used
    assert (noisy[4].width, noisy[4].height) == (1280, 704)  # the composite's destination latent
    first, second = passes("unclip_2pass_cropped.png")
    assert (first.seed, first.model, second.seed) == (1106257833005336,
                                                      "wd-1-5-beta2-aesthetic-unclip-h-fp32.safetensors",
                                                      119080905858220)
    (only,) = passes("img2img_cropped.png")
    assert (only.width, only.denoise, only.model) == (None, 0.8700000000000001, "v1-5-pruned-emaonly.ckpt")
