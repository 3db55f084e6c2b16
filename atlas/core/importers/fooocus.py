"""Fooocus and RuinedFooocus: a JSON object as the `parameters` text (PNG) or EXIF UserComment (JPEG/WebP).

Fooocus (metadata scheme "fooocus", with a `fooocus_scheme` chunk beside it in PNG and the
version in EXIF Software): prompt, negative_prompt, full_prompt / full_negative_prompt (with
the styles applied), resolution "(width, height)", guidance_scale, steps, seed (text: Fooocus
seeds go past 2**63), sampler and scheduler (ComfyUI's names), base_model, base_model_hash,
refiner_model, refiner_switch, loras, version. Its "a1111" scheme is an infotext, read by
`importers.a1111`. With a refiner (refiner_model other than "None"), the base model samples until
`refiner_switch` of the steps and the refiner samples the rest of the same schedule: imported as
two passes, the refiner's denoise being 1 - refiner_switch (it adds no noise: no seed of its own).

RuinedFooocus: Prompt, Negative, steps, cfg, width, height, seed, sampler_name, scheduler,
base_model_name, base_model_hash, loras, denoise and "software": "RuinedFooocus".
"""

import re

from atlas.core.importers.generation import Generation, number_fields, set_sampler, set_seed, text
from atlas.core.importers.values import as_float

RESOLUTION = re.compile(r"\(?\s*(\d+)\s*[,x×]\s*(\d+)\s*\)?")
FOOOCUS_READ = frozenset({"prompt", "negative_prompt", "resolution", "guidance_scale", "steps", "seed", "sampler",
                          "scheduler", "base_model", "base_model_hash"})
RUINED_READ = frozenset({"Prompt", "Negative", "steps", "cfg", "width", "height", "seed", "sampler_name",
                         "scheduler", "base_model_name", "base_model_hash", "denoise", "software"})


def is_fooocus(doc: dict, raw: dict) -> bool:
    version = doc.get("version")
    return ("fooocus_scheme" in raw or (isinstance(version, str) and version.startswith("Fooocus"))
            or ("base_model" in doc and "prompt" in doc and "resolution" in doc))


def is_ruined_fooocus(doc: dict) -> bool:
    return doc.get("software") == "RuinedFooocus"


def read_fooocus(doc: dict) -> Generation:
    gen = Generation(tool="Fooocus", prompt=text(doc.get("prompt")), negative_prompt=text(doc.get("negative_prompt")))
    set_seed(gen, doc.get("seed"))
    set_sampler(gen, doc.get("sampler"), doc.get("scheduler"))
    width, height = resolution(doc.get("resolution"))
    number_fields(gen, doc.get("steps"), doc.get("guidance_scale"), None, width, height)
    model(gen, doc.get("base_model"), doc.get("base_model_hash"))
    gen.settings["fooocus"] = {k: v for k, v in doc.items() if k not in FOOOCUS_READ}
    refiner = doc.get("refiner_model")
    if not isinstance(refiner, str) or not refiner.strip() or refiner == "None":
        return gen
    switch = as_float(doc.get("refiner_switch"))
    final = Generation(tool="Fooocus", prompt=gen.prompt, negative_prompt=gen.negative_prompt, sampler=gen.sampler,
                       steps=gen.steps, cfg=gen.cfg, width=gen.width, height=gen.height,
                       denoise=1 - switch if switch is not None and 0 < switch < 1 else None)
    final.settings.update({k: gen.settings[k] for k in ("sampler_original", "schedule_type") if k in gen.settings})
    final.settings["model"] = refiner
    gen.settings["pass"] = {"index": 1, "of": 2, "name": "base"}
    final.settings["pass"] = {"index": 2, "of": 2, "name": "refiner"}
    final.settings["fooocus"] = gen.settings["fooocus"]
    final.earlier = [gen]
    return final


def read_ruined_fooocus(doc: dict) -> Generation:
    gen = Generation(tool="RuinedFooocus", prompt=text(doc.get("Prompt")), negative_prompt=text(doc.get("Negative")))
    set_seed(gen, doc.get("seed"))
    set_sampler(gen, doc.get("sampler_name"), doc.get("scheduler"))
    number_fields(gen, doc.get("steps"), doc.get("cfg"), doc.get("denoise"), doc.get("width"), doc.get("height"))
    model(gen, doc.get("base_model_name"), doc.get("base_model_hash"))
    gen.settings["ruinedfooocus"] = {k: v for k, v in doc.items() if k not in RUINED_READ}
    return gen


def resolution(value) -> tuple[int | None, int | None]:
    """(width, height) of "(768, 1280)", "832 x 1216" or "1024x1024"; (None, None) for anything else."""
    match = RESOLUTION.fullmatch(value.strip()) if isinstance(value, str) else None
    return (int(match[1]), int(match[2])) if match else (None, None)


def model(gen: Generation, name, short_hash=None) -> None:
    if isinstance(name, str) and name.strip() and name != "None":
        gen.settings["model"] = name
    if isinstance(short_hash, str) and short_hash.strip():
        gen.settings["model_hash"] = short_hash
