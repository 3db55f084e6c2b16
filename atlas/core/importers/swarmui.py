"""SwarmUI: a JSON object {"sui_image_params": {...}, "sui_extra_data": {...}, "sui_models": [...]} as the
`parameters` text (PNG) or EXIF UserComment (JPEG, WebP).

sui_image_params: prompt, negativeprompt, seed, steps, cfgscale, width, height, sampler and
scheduler (ComfyUI's names), model, initimagecreativity (the img2img denoise), swarm_version, and
refiner/LoRA/VAE settings; sui_models (newer versions): [{name, param, hash}] with the model's hash.
"""

from atlas.core.errors import BadInput
from atlas.core.importers.generation import Generation, number_fields, set_sampler, set_seed, text

TOOL = "SwarmUI"
READ = frozenset({"prompt", "negativeprompt", "seed", "steps", "cfgscale", "width", "height", "sampler", "scheduler",
                  "model", "initimagecreativity"})


def is_swarmui(doc: dict) -> bool:
    return "sui_image_params" in doc


def read(doc: dict) -> Generation:
    params = doc.get("sui_image_params")
    if not isinstance(params, dict):
        raise BadInput("SwarmUI metadata whose sui_image_params is not a JSON object")
    gen = Generation(tool=TOOL, prompt=text(params.get("prompt")), negative_prompt=text(params.get("negativeprompt")))
    set_seed(gen, params.get("seed"))
    set_sampler(gen, params.get("sampler"), params.get("scheduler"))
    if isinstance(params.get("scheduler"), str):
        gen.settings["scheduler"] = params["scheduler"]
    number_fields(gen, params.get("steps"), params.get("cfgscale"), params.get("initimagecreativity"),
                  params.get("width"), params.get("height"))
    if isinstance(params.get("model"), str) and params["model"]:
        gen.settings["model"] = params["model"]
        models = doc.get("sui_models")
        for entry in models if isinstance(models, list) else []:
            if isinstance(entry, dict) and entry.get("param") == "model" and isinstance(entry.get("hash"), str):
                gen.settings["model_hash"] = entry["hash"]
    gen.settings["swarmui"] = {k: v for k, v in params.items() if k not in READ}
    for key in ("sui_extra_data", "sui_models"):
        if key in doc:
            gen.settings[key] = doc[key]
    return gen
