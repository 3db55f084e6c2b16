"""TensorArt: a `generation_data` PNG chunk (a JSON object, often with NULs after it) beside a ComfyUI
API graph in `prompt`. generation_data: prompt, negativePrompt, width, height, seed (text), steps,
cfgScale, clipSkip, sampler, baseModel {modelFileName, hash, ...}, models. What generation_data
leaves out (the sampler, in some versions) comes from the graph's last sampling pass."""

from atlas.core.errors import BadInput
from atlas.core.importers.generation import Generation, load_object, number_fields, set_sampler, set_seed, text

TOOL = "TensorArt"
KEY = "generation_data"
READ = frozenset({"prompt", "negativePrompt", "width", "height", "seed", "steps", "cfgScale", "sampler",
                  "samplerName", "scheduler", "baseModel"})


def read(raw: dict, graph_pass: Generation | None) -> Generation:
    """`graph_pass`: the last pass of the ComfyUI graph beside generation_data, if one was read."""
    doc = load_object(raw.get(KEY))
    if doc is None:
        raise BadInput("TensorArt metadata (generation_data) that is not a JSON object")
    gen = Generation(tool=TOOL, prompt=text(doc.get("prompt")), negative_prompt=text(doc.get("negativePrompt")))
    set_seed(gen, doc.get("seed"))
    sampler = doc.get("sampler", doc.get("samplerName"))
    if sampler is not None:
        set_sampler(gen, sampler, doc.get("scheduler"))
    elif graph_pass is not None:
        gen.sampler = graph_pass.sampler
        for key in ("sampler_original", "schedule_type", "scheduler"):
            if key in graph_pass.settings:
                gen.settings[key] = graph_pass.settings[key]
    number_fields(gen, doc.get("steps"), doc.get("cfgScale"), None, doc.get("width"), doc.get("height"))
    base = doc.get("baseModel")
    if isinstance(base, dict):
        name = base.get("modelFileName") or base.get("name")
        if isinstance(name, str) and name:
            gen.settings["model"] = name
        if isinstance(base.get("hash"), str) and base["hash"]:
            gen.settings["model_hash"] = base["hash"]
    elif graph_pass is not None and "model" in graph_pass.settings:
        gen.settings["model"] = graph_pass.settings["model"]
    if gen.prompt == "" and graph_pass is not None:
        gen.prompt, gen.negative_prompt = graph_pass.prompt, graph_pass.negative_prompt
    gen.settings["tensorart"] = {k: v for k, v in doc.items() if k not in READ}
    return gen
