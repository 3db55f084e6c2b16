"""InvokeAI's metadata, all its generations (PNG text chunks):

- `Dream` (1.x, 2.x): the prompt in quotes, then dream command options: -s steps, -S seed,
  -W width, -H height, -C CFG, -A sampler, -f img2img strength (others kept as written);
- `sd-metadata` (2.x): JSON with model_weights (the model's name), model_hash (its sha256),
  app_version and `image`: prompt (text, or a list of {prompt, weight}), steps, cfg_scale, width,
  height, seed, sampler, strength, type;
  in both, text in [brackets] inside the prompt is the negative prompt;
- `invokeai_metadata` (3.x and later): JSON with positive_prompt, negative_prompt, seed, steps,
  cfg_scale, scheduler, width, height, strength, and `model`: {model_name, base_model} (3.x) or
  {key, hash, name, base, type} (4.x and later);
  a hires fix (hrf_enabled, hrf_method, hrf_strength, hrf_scale) makes it two passes, an SDXL
  refiner (refiner_model, refiner_steps, refiner_cfg_scale, refiner_scheduler, refiner_start) one
  more;
- `invokeai_graph` (3.x and later): the node graph, read when no `invokeai_metadata` is beside it:
  its metadata node if it has one, else the model loader, noise, denoise and prompt nodes.
"""

import re
import shlex

from atlas.core.errors import BadInput
from atlas.core.importers.generation import Generation, load_object, number_fields, set_sampler, set_seed, text
from atlas.core.importers.values import as_float

TOOL = "InvokeAI"
KEYS = ("invokeai_metadata", "invokeai_graph", "sd-metadata", "Dream")
NEGATIVE = re.compile(r"\[([^\[\]]*)\]")
# Dream command options: short and long spellings -> field.
DREAM_OPTIONS = {"-s": "steps", "--steps": "steps", "-S": "seed", "--seed": "seed", "-W": "width",
                 "--width": "width", "-H": "height", "--height": "height", "-C": "cfg_scale",
                 "--cfg_scale": "cfg_scale", "-A": "sampler", "--sampler": "sampler", "-f": "strength",
                 "--strength": "strength"}
META_READ = frozenset({"positive_prompt", "negative_prompt", "seed", "steps", "cfg_scale", "scheduler", "width",
                       "height", "strength", "model"})
METADATA_NODES = ("core_metadata", "metadata")
LOADER_TYPES = ("main_model_loader", "sdxl_model_loader", "flux_model_loader", "sd3_model_loader",
                "cogview4_model_loader")


def is_invokeai(raw: dict) -> bool:
    return any(key in raw for key in KEYS)


def read(raw: dict) -> Generation | None:
    """The pass InvokeAI's metadata in `raw` describes (the newest generation present wins); None when none.

    Raises BadInput when InvokeAI's chunk is there and cannot be read.
    """
    if "invokeai_metadata" in raw:
        doc = load_object(raw["invokeai_metadata"])
        if doc is None:
            raise BadInput("InvokeAI metadata (invokeai_metadata) that is not a JSON object")
        return _from_metadata(doc)
    if "invokeai_graph" in raw:
        graph = load_object(raw["invokeai_graph"])
        if graph is None:
            raise BadInput("InvokeAI graph (invokeai_graph) that is not a JSON object")
        return _from_graph(graph)
    if "sd-metadata" in raw:
        doc = load_object(raw["sd-metadata"])
        if doc is None or not isinstance(doc.get("image"), dict):
            raise BadInput("InvokeAI metadata (sd-metadata) that is not a JSON object with its `image`")
        return _from_sd_metadata(doc)
    if "Dream" in raw:
        return _from_dream(raw["Dream"])
    return None


def _model(gen: Generation, model) -> None:
    if isinstance(model, str) and model:
        gen.settings["model"] = model
        return
    if not isinstance(model, dict):
        return
    name = model.get("name") or model.get("model_name")
    if isinstance(name, str) and name:
        gen.settings["model"] = name
    if isinstance(model.get("hash"), str) and model["hash"]:
        gen.settings["model_hash"] = model["hash"]
    base = model.get("base") or model.get("base_model")
    if isinstance(base, str) and base:
        gen.settings["model_base"] = base
    if isinstance(model.get("key"), str):
        gen.settings["model_key"] = model["key"]


def _from_metadata(doc: dict) -> Generation:
    """invokeai_metadata: one pass, or a lineage of them. A hires fix (hrf_enabled) is a second
    pass; an SDXL refiner (refiner_model) one more after it (see `_hires_fix`, `_refiner`)."""
    passes = [_base_pass(doc)]
    hires = _hires_fix(doc, passes[0])
    if hires is not None:
        passes.append(hires)
    refiner = _refiner(doc, passes[-1])
    if refiner is not None:
        passes.append(refiner)
    if len(passes) == 1:
        return passes[0]
    names = ["base", *(["hires fix"] if hires is not None else []), *(["refiner"] if refiner is not None else [])]
    for index, (step, name) in enumerate(zip(passes, names, strict=True), start=1):
        step.settings["pass"] = {"index": index, "of": len(passes), "name": name}
        step.settings["invokeai"] = passes[0].settings["invokeai"]
    final = passes[-1]
    final.earlier = passes[:-1]
    return final


def _hires_fix(doc: dict, base: Generation) -> Generation | None:
    """InvokeAI's high resolution fix (hrf_enabled): the base pass at a smaller size, its latents (or
    pixels, through an upscale model: hrf_method) enlarged, then denoised again at `hrf_strength`
    with the same seed, steps, CFG, scheduler and model. The metadata's width and height are the
    final size; the base size is that over hrf_scale when it is written (older versions chose it
    from the model's native size and did not write it: left unknown)."""
    if doc.get("hrf_enabled") is not True:
        return None
    hires = Generation(tool=TOOL, prompt=base.prompt, negative_prompt=base.negative_prompt, seed=base.seed,
                       settings={k: v for k, v in base.settings.items() if k != "invokeai"})
    number_fields(hires, base.steps, base.cfg, doc.get("hrf_strength"), base.width, base.height)
    hires.sampler = base.sampler
    method = doc.get("hrf_method")
    if isinstance(method, str) and method:
        hires.settings["hrf_method"] = method
    scale = as_float(doc.get("hrf_scale"))
    if scale is not None and scale > 1 and base.width and base.height:
        base.width, base.height = round(base.width / scale), round(base.height / scale)
    else:
        base.width = base.height = None
    return hires


def _refiner(doc: dict, before: Generation) -> Generation | None:
    """An SDXL refiner (refiner_model) takes over the latents of the pass `before` at
    `refiner_start`, adding no noise: no seed of its own."""
    refiner = doc.get("refiner_model")
    if not isinstance(refiner, dict) or doc.get("refiner_steps") is None:
        return None
    start = as_float(doc.get("refiner_start"))
    final = Generation(tool=TOOL, prompt=before.prompt, negative_prompt=before.negative_prompt)
    set_sampler(final, doc.get("refiner_scheduler"))
    number_fields(final, doc.get("refiner_steps"), doc.get("refiner_cfg_scale"),
                  1 - start if start is not None and 0 < start < 1 else None, before.width, before.height)
    _model(final, refiner)
    return final


def _base_pass(doc: dict) -> Generation:
    gen = Generation(tool=TOOL, prompt=text(doc.get("positive_prompt")),
                     negative_prompt=text(doc.get("negative_prompt")))
    set_seed(gen, doc.get("seed"))
    set_sampler(gen, doc.get("scheduler"))
    number_fields(gen, doc.get("steps"), doc.get("cfg_scale"), doc.get("strength"), doc.get("width"),
                  doc.get("height"))
    _model(gen, doc.get("model"))
    if isinstance(doc.get("app_version"), str):
        gen.settings["app_version"] = doc["app_version"]
    gen.settings["invokeai"] = {k: v for k, v in doc.items() if k not in META_READ}
    return gen


def _from_graph(graph: dict) -> Generation:
    nodes = graph.get("nodes")
    if isinstance(nodes, list):  # some versions write a list of nodes, others id -> node
        nodes = {str(n.get("id")): n for n in nodes if isinstance(n, dict)}
    if not isinstance(nodes, dict):
        raise BadInput("InvokeAI graph (invokeai_graph) without its nodes")
    by_type: dict[str, list[dict]] = {}
    for node in nodes.values():
        if isinstance(node, dict) and isinstance(node.get("type"), str):
            by_type.setdefault(node["type"], []).append(node)
    for kind in METADATA_NODES:
        if by_type.get(kind):
            gen = _from_metadata(by_type[kind][0])
            gen.settings["graph_source"] = kind
            return gen
    gen = Generation(tool=TOOL)
    loader = next((by_type[k][0] for k in LOADER_TYPES if by_type.get(k)), None)
    if loader is not None:
        _model(gen, loader.get("model"))
    noise = (by_type.get("noise") or [{}])[0]
    denoise = next((n for kind, found in by_type.items() if "denoise" in kind for n in found), {})
    set_seed(gen, noise.get("seed", denoise.get("seed")))
    set_sampler(gen, denoise.get("scheduler"))
    start = denoise.get("denoising_start")
    number_fields(gen, denoise.get("steps"), denoise.get("cfg_scale"),
                  1 - start if isinstance(start, (int, float)) and start else None,
                  noise.get("width", denoise.get("width")), noise.get("height", denoise.get("height")))
    prompts = _conditioning_prompts(graph, nodes, denoise.get("id"))
    gen.prompt, gen.negative_prompt = prompts.get("positive_conditioning", ""), prompts.get("negative_conditioning", "")
    if gen.prompt == "" and gen.seed is None and gen.steps is None and "model" not in gen.settings:
        raise BadInput("InvokeAI graph (invokeai_graph) with no metadata node, model loader or denoise node")
    gen.settings["graph_source"] = "nodes"
    return gen


def _conditioning_prompts(graph: dict, nodes: dict, denoise_id) -> dict[str, str]:
    """field -> prompt of the prompt nodes wired into the denoise node's conditioning inputs."""
    found: dict[str, str] = {}
    edges = graph.get("edges")
    if not isinstance(edges, list) or denoise_id is None:
        return found
    for edge in edges:
        if not isinstance(edge, dict):
            continue
        source, destination = edge.get("source"), edge.get("destination")
        if not (isinstance(source, dict) and isinstance(destination, dict)):
            continue
        field = destination.get("field")
        if destination.get("node_id") == denoise_id and field in ("positive_conditioning", "negative_conditioning"):
            node = nodes.get(str(source.get("node_id")))
            if isinstance(node, dict):
                found[field] = text(node.get("prompt"))
    return found


def _split_negative(prompt: str) -> tuple[str, str]:
    """InvokeAI 2.x's prompt: the text in [brackets] is the negative prompt."""
    negatives = NEGATIVE.findall(prompt)
    if not negatives:
        return prompt, ""
    return NEGATIVE.sub("", prompt).strip(), ", ".join(n.strip() for n in negatives)


def _from_sd_metadata(doc: dict) -> Generation:
    image = doc["image"]
    prompt = image.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(text(p.get("prompt")) for p in prompt if isinstance(p, dict))
    positive, negative = _split_negative(text(prompt))
    gen = Generation(tool=TOOL, prompt=positive, negative_prompt=negative)
    set_seed(gen, image.get("seed"))
    set_sampler(gen, image.get("sampler"))
    number_fields(gen, image.get("steps"), image.get("cfg_scale"), image.get("strength"), image.get("width"),
                  image.get("height"))
    _model(gen, doc.get("model_weights"))
    if isinstance(doc.get("model_hash"), str) and doc["model_hash"]:
        gen.settings["model_hash"] = doc["model_hash"]
    if isinstance(doc.get("app_version"), str):
        gen.settings["app_version"] = doc["app_version"]
    gen.settings["invokeai"] = {k: v for k, v in image.items()
                                if k not in ("prompt", "seed", "sampler", "steps", "cfg_scale", "strength", "width",
                                             "height")}
    return gen


def _from_dream(command) -> Generation:
    if not isinstance(command, str) or not command.strip():
        raise BadInput("InvokeAI Dream text that is empty")
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise BadInput(f"InvokeAI Dream text that cannot be split into a prompt and options: {exc}") from None
    prompt_words: list[str] = []
    values: dict[str, str] = {}
    other: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word in DREAM_OPTIONS and i + 1 < len(words):
            values[DREAM_OPTIONS[word]] = words[i + 1]
            i += 2
        elif word.startswith("-") and len(word) > 1 and not word[1:].replace(".", "").isdigit() and prompt_words:
            args = []
            i += 1
            while i < len(words) and not (words[i].startswith("-") and not words[i][1:].replace(".", "").isdigit()):
                args.append(words[i])
                i += 1
            other[word] = " ".join(args)
        else:
            prompt_words.append(word)
            i += 1
    positive, negative = _split_negative(" ".join(prompt_words))
    gen = Generation(tool=TOOL, prompt=positive, negative_prompt=negative)
    set_seed(gen, values.get("seed"))
    set_sampler(gen, values.get("sampler"))
    number_fields(gen, values.get("steps"), values.get("cfg_scale"), values.get("strength"), values.get("width"),
                  values.get("height"))
    if other:
        gen.settings["dream_options"] = other
    return gen
