"""SwarmUI: a JSON object {"sui_image_params": {...}, "sui_extra_data": {...}, "sui_models": [...]} as the
`parameters` text (PNG) or EXIF UserComment (JPEG, WebP).

sui_image_params: prompt, negativeprompt, seed, steps, cfgscale, width, height, sampler and
scheduler (ComfyUI's names), model, initimagecreativity (the img2img denoise), swarm_version, and
refiner/LoRA/VAE settings; sui_models (newer versions): [{name, param, hash}] with the model's hash.

Swarm's refine/upscale stage runs when both `refinermethod` and `refinercontrolpercentage` are
there: a second pass that takes the base image (scaled by `refinerupscale`) and resamples the
last `refinercontrolpercentage` of the schedule, with `refinermodel` (else the base model) and
its own steps, CFG, sampler and scheduler where given (else the base's). The file is then
imported as those two passes; the second has no seed of its own in the metadata, and no size
when it was upscaled (Swarm rounds the scaled size its own way: the file's size is the truth).
"""

from atlas.core.errors import BadInput
from atlas.core.importers.generation import Generation, number_fields, set_sampler, set_seed, text
from atlas.core.importers.values import as_float

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
    return _refined(gen, params) if "refinermethod" in params and "refinercontrolpercentage" in params else gen


def _refined(base: Generation, params: dict) -> Generation:
    final = Generation(tool=TOOL, prompt=base.prompt, negative_prompt=base.negative_prompt)
    sampler = params.get("refinersampler") or base.settings.get("sampler_original")
    set_sampler(final, sampler, params.get("refinerscheduler") or params.get("scheduler"))
    upscale = as_float(params.get("refinerupscale"))
    same_size = upscale is None or upscale == 1
    number_fields(final, params.get("refinersteps", base.steps), params.get("refinercfgscale", base.cfg),
                  params.get("refinercontrolpercentage"), base.width if same_size else None,
                  base.height if same_size else None)
    model = params.get("refinermodel")
    if isinstance(model, str) and model and model != "(Use Base)":
        final.settings["model"] = model
    elif "model" in base.settings:
        final.settings.update({k: base.settings[k] for k in ("model", "model_hash") if k in base.settings})
    base.settings["pass"] = {"index": 1, "of": 2, "name": "base"}
    final.settings["pass"] = {"index": 2, "of": 2, "name": "refiner"}
    final.settings["swarmui"] = base.settings["swarmui"]
    final.earlier = [base]
    return final
