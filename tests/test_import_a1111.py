"""A1111 and its forks, read by atlas's own reader: files written here the way each tool writes them."""

import json

import piexif
import piexif.helper
import pytest
from PIL import Image, PngImagePlugin
from sqlmodel import select

from atlas.core import sampler_names
from atlas.core.catalogue.tables import Pass
from atlas.core.importers.batch import import_file


def png_with(path, texts: dict, size=(16, 16)):
    info = PngImagePlugin.PngInfo()
    for key, text in texts.items():
        info.add_text(key, text)
    Image.new("RGB", size, (30, 60, 90)).save(path, pnginfo=info)
    return path


def jpeg_with(path, text: str, size=(16, 16)):
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(text, "unicode")}})
    Image.new("RGB", size, (30, 60, 90)).save(path, format="JPEG", exif=exif)
    return path


def imported(catalogue, path):
    render = import_file(catalogue, path)
    with catalogue.session() as session:
        step = session.exec(select(Pass).where(Pass.render_id == render.id)).one()
    return render, step


PROMPT = "a lighthouse at dusk, 灯台\n"  # the trailing newline is the author's: kept
NEGATIVE = "blurry, lowres\n"
TAIL = "Model hash: 1a2b3c4d5e, Model: dreamXL_v10"

# (tool label, how it writes the parameter line): Version values as each tool writes them.
FORKS = {
    "AUTOMATIC1111": "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123456789, "
                     f"Size: 832x1216, {TAIL}, Version: v1.10.1",
    "Forge": "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG Scale: 6.5, Seed: 123456789, "
             f"Size: 832x1216, {TAIL}, Version: f2.0.1v1.10.1-previous-669-gdfdcbab6, Module 1: sdxl_vae",
    "Forge Classic": "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123456789, "
                     f"Size: 832x1216, {TAIL}, Version: classic",
    "Forge Neo": "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123456789, "
                 f"Size: 832x1216, {TAIL}, Version: neo",
    "reForge": "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123456789, "
               f"Size: 832x1216, {TAIL}, Version: f1.7.0v2-v1.10.1RC-latest-2175-g1bd1a0b3",
    "EasyReforge": "Steps: 30, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 123456789, "
                   f"Size: 832x1216, {TAIL}, Version: f1.7.0-v1.10.1RC-latest-2175-g1bd1a0b3",
    # SD.Next: no sampler key of A1111's layout needed, `App:` names it, its Version is a git hash
    "SD.Next": f"Steps: 30, Size: 832x1216, Sampler: DPM++ 2M Karras, Seed: 123456789, CFG scale: 6.5, {TAIL}, "
               "App: SD.Next, Version: 8b73cb6, Pipeline: StableDiffusionXLPipeline, Operations: txt2img",
    # A1111 before 1.9: the schedule is part of the sampler name
    "AUTOMATIC1111 (old)": "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 123456789, "
                           f"Size: 832x1216, {TAIL}, Version: v1.6.0",
}


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
@pytest.mark.parametrize("tool", list(FORKS))
def test_each_fork_is_labelled_and_read(catalogue, tmp_path, tool, fmt):
    text = f"{PROMPT}\nNegative prompt: {NEGATIVE}\n{FORKS[tool]}"
    path = tmp_path / f"render.{fmt}"
    png_with(path, {"parameters": text}) if fmt == "png" else jpeg_with(path, text)
    render, step = imported(catalogue, path)
    assert render.tool == tool.removesuffix(" (old)")
    assert (step.prompt, step.negative_prompt) == (PROMPT, NEGATIVE)
    assert (step.seed, step.steps, step.cfg, step.width, step.height) == (123456789, 30, 6.5, 832, 1216)
    assert (step.sampler, step.settings["schedule_type"]) == ("DPM++ 2M", "Karras")
    assert step.settings["model"] == "dreamXL_v10" and step.settings["model_hash"] == "1a2b3c4d5e"
    assert step.settings["sampler_original"] in ("DPM++ 2M", "DPM++ 2M Karras")


def test_stability_matrix_is_named_by_its_own_texts(catalogue, tmp_path):
    text = f"{PROMPT}\nNegative prompt: {NEGATIVE}\n{FORKS['AUTOMATIC1111'].replace(', Version: v1.10.1', '')}"
    doc = {"PositivePrompt": PROMPT, "NegativePrompt": NEGATIVE, "Seed": 123456789, "Steps": 30, "CfgScale": 6.5,
           "Width": 832, "Height": 1216, "Sampler": "DPM++ 2M", "ModelName": "dreamXL_v10"}
    path = png_with(tmp_path / "sm.png", {"parameters": text, "parameters-json": json.dumps(doc), "smproj": "{}"})
    render, step = imported(catalogue, path)
    assert render.tool == "Stability Matrix"
    assert (step.prompt, step.seed, step.sampler, step.settings["schedule_type"]) == (
        PROMPT, 123456789, "DPM++ 2M", "Karras")


def test_text_without_sampler_is_read(catalogue, tmp_path):
    text = "a quiet harbour\nNegative prompt: people\nSteps: 12, CFG Scale: 3, Seed: 99, Size: 64x48, Model: tiny"
    render, step = imported(catalogue, png_with(tmp_path / "nosampler.png", {"parameters": text}))
    assert render.tool == "AUTOMATIC1111"
    assert (step.prompt, step.negative_prompt, step.seed, step.steps, step.cfg) == (
        "a quiet harbour", "people", 99, 12, 3.0)
    assert (step.width, step.height, step.sampler, step.settings["model"]) == (64, 48, None, "tiny")


def test_civitai_text_keeps_its_resources(catalogue, tmp_path):
    resources = [{"type": "checkpoint", "modelVersionId": 290640, "modelName": "Pony Diffusion V6 XL"},
                 {"type": "lora", "weight": 0.8, "modelVersionId": 12345, "modelName": "detail"}]
    text = ("a red fox in snow\nNegative prompt: watermark\nSteps: 25, Sampler: Euler a, CFG scale: 7, Seed: 42, "
            f"Size: 1024x1024, Clip skip: 2, Civitai resources: {json.dumps(resources)}, Civitai metadata: {{}}")
    render, step = imported(catalogue, jpeg_with(tmp_path / "civitai.jpeg", text))
    assert render.tool == "Civitai"
    assert (step.prompt, step.negative_prompt, step.seed, step.steps, step.sampler, step.cfg) == (
        "a red fox in snow", "watermark", 42, 25, "Euler a", 7.0)
    assert step.settings["civitai_resources"] == resources
    assert step.settings["infotext"]["Clip skip"] == "2" and step.settings["infotext"]["Civitai metadata"] == "{}"


@pytest.mark.parametrize(("written", "expected"), [
    ("Euler a", ("Euler a", None)), ("euler_ancestral", ("Euler a", None)), ("k_euler_ancestral", ("Euler a", None)),
    ("DPM++ 2M Karras", ("DPM++ 2M", "Karras")), ("dpmpp_2m_sde_gpu", ("DPM++ 2M SDE", None)),
    ("dpmpp_2m_k", ("DPM++ 2M", "Karras")), ("DPM++ 2M SDE Exponential", ("DPM++ 2M SDE", "Exponential")),
    ("uni_pc", ("UniPC", None)), ("some new sampler", ("some new sampler", None))])
def test_sampler_names_normalise_to_a1111(written, expected):
    assert sampler_names.normalise(written) == expected


def test_search_finds_either_spelling_after_import(cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    png_with(folder / "a1111.png", {"parameters": "a fox\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, "
                                                  "Size: 16x16, Version: v1.10.1"})
    swarm = {"sui_image_params": {"prompt": "a fox", "seed": 2, "steps": 20, "cfgscale": 7, "width": 16,
                                  "height": 16, "sampler": "euler_ancestral", "scheduler": "karras"}}
    png_with(folder / "swarm.png", {"parameters": json.dumps(swarm)}, size=(17, 16))
    png_with(folder / "old.png", {"parameters": "a fox\nSteps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3, "
                                                "Size: 16x16"}, size=(18, 16))
    png_with(folder / "euler.png", {"parameters": "a fox\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 4"},
             size=(19, 16))
    assert cli("import", folder).code == 0

    def seeds(query):
        result = cli("search", "--json", query)
        assert result.code == 0, result.err
        return sorted(json.loads(line)["seed"] for line in result.out.splitlines() if line.strip())

    assert seeds('sampler:"Euler a"') == [1, 2]
    assert seeds("sampler:euler_ancestral") == [1, 2]
    assert seeds("sampler:euler") == [4]
    assert seeds('sampler:"DPM++ 2M"') == [3]
    assert seeds('sampler:"DPM++ 2M Karras"') == [3]
    assert seeds("schedule:karras") == [2, 3]
    assert seeds("-schedule:Karras sampler:euler*") == [1, 4]
