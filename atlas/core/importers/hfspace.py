"""Hugging Face Spaces (Gradio and diffusers) that write a JSON object as the `parameters` text:
prompt, negative_prompt, resolution ("832 x 1216"), guidance_scale, num_inference_steps, seed,
sampler, Model, "Model hash", style_preset, use_upscaler; some write width/height instead of a
resolution."""

from atlas.core.importers.fooocus import resolution
from atlas.core.importers.generation import Generation, number_fields, set_sampler, set_seed, text

TOOL = "Hugging Face Space"
MARKS = ("num_inference_steps", "guidance_scale", "resolution", "Model")
READ = frozenset({"prompt", "negative_prompt", "resolution", "guidance_scale", "num_inference_steps", "seed",
                  "sampler", "Model", "Model hash", "width", "height"})


def is_hf_space(doc: dict) -> bool:
    return isinstance(doc.get("prompt"), str) and sum(mark in doc for mark in MARKS) >= 2


def read(doc: dict) -> Generation:
    gen = Generation(tool=TOOL, prompt=text(doc.get("prompt")), negative_prompt=text(doc.get("negative_prompt")))
    set_seed(gen, doc.get("seed"))
    set_sampler(gen, doc.get("sampler"))
    width, height = resolution(doc.get("resolution"))
    number_fields(gen, doc.get("num_inference_steps"), doc.get("guidance_scale"), None,
                  width if width is not None else doc.get("width"), height if height is not None else doc.get("height"))
    if isinstance(doc.get("Model"), str) and doc["Model"]:
        gen.settings["model"] = doc["Model"]
    if isinstance(doc.get("Model hash"), str) and doc["Model hash"]:
        gen.settings["model_hash"] = doc["Model hash"]
    gen.settings["space"] = {k: v for k, v in doc.items() if k not in READ}
    return gen
