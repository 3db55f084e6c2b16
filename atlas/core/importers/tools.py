"""What a file's metadata says about how it was made: tool, prompts, seed, sampler, model, ...

The texts come from `importers.extract`. A1111 and its forks are read by `importers.a1111`; ComfyUI,
InvokeAI, NovelAI and Fooocus by sd-parsers (its parsers only); SwarmUI and atlas's own record here.
Everything a parser reports that has no column of its own goes into
`settings`, and the metadata itself is always kept verbatim by the caller, so nothing is lost
when a format is only partly understood.
"""

import json
import logging
from dataclasses import dataclass, field

from atlas.core.files import infotext
from atlas.core.importers import a1111, comfyui
from atlas.core.importers.values import as_float, as_int

INT64_MAX = (1 << 63) - 1
logging.getLogger("sd_parsers").setLevel(logging.CRITICAL)  # it logs every parser that declines a file


@dataclass
class Generation:
    """Pass fields found in a file's metadata (all optional)."""

    tool: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    seed: int | None = None
    sampler: str | None = None
    steps: int | None = None
    cfg: float | None = None
    denoise: float | None = None
    width: int | None = None
    height: int | None = None
    settings: dict = field(default_factory=dict)
    # The sampling passes before this one, oldest first, when the file records several (a ComfyUI
    # hires fix or refiner graph): this Generation is the pass that made the image itself.
    earlier: list["Generation"] = field(default_factory=list)


def json_safe(value):
    """`value` as plain JSON types (sd-parsers hands back sets, enums and dataclasses)."""
    return json.loads(json.dumps(value, default=lambda o: sorted(o, key=str) if isinstance(o, (set, frozenset))
                                 else getattr(o, "__dict__", None) or str(o)))


def _size(meta: dict) -> tuple[int | None, int | None]:
    size = meta.get("Size") or meta.get("size")
    if isinstance(size, str) and "x" in size:
        w, _, h = size.partition("x")
        return as_int(w), as_int(h)
    return as_int(meta.get("width")), as_int(meta.get("height"))


def _set_seed(gen: Generation, value) -> None:
    seed = as_int(value)
    if seed is not None and abs(seed) > INT64_MAX:  # ComfyUI allows 64-bit unsigned seeds: keep them as text
        gen.settings["seed"] = str(seed)
        seed = None
    gen.seed = seed


TOOL_NAMES = {"AUTOMATIC1111": "AUTOMATIC1111", "ComfyUI": "ComfyUI", "InvokeAI": "InvokeAI",
              "NovelAI": "NovelAI", "Fooocus": "Fooocus"}


def a1111_fork(version: str | None) -> str:
    """A1111's forks write the same infotext; their `Version:` tells them apart (see `a1111.label`)."""
    return a1111.label({"Version": version or ""})


def from_sd_parsers(info, raw: dict) -> Generation:
    """Pass fields from sd-parsers' reading `info` of the texts `raw`."""
    gen = Generation(tool=TOOL_NAMES.get(getattr(info.generator, "value", str(info.generator)), "unknown"))
    samplers = list(info.samplers)
    chosen = samplers[0] if samplers else None  # ComfyUI graphs with a sampler are read by `from_comfyui`
    meta = dict(info.metadata or {})
    if chosen is not None:
        params = dict(chosen.parameters or {})
        gen.sampler = chosen.name
        gen.prompt = "\n".join(p.value for p in chosen.prompts)
        gen.negative_prompt = "\n".join(p.value for p in chosen.negative_prompts)
        seed = params.pop("seed", None)
        noise_seed = params.pop("noise_seed", None)
        _set_seed(gen, seed if seed is not None else noise_seed)
        gen.steps = as_int(params.pop("steps", None))
        gen.cfg = as_float(params.pop("cfg_scale", None))
        for key in ("denoise", "denoising_strength"):
            if key in params:
                gen.denoise = as_float(params.pop(key))
        gen.settings.update(params)
        model = chosen.model or (sorted(info.models, key=lambda m: m.name or "")[0] if info.models else None)
    else:
        gen.prompt = "\n".join(p.value for p in info.prompts)
        gen.negative_prompt = "\n".join(p.value for p in info.negative_prompts)
        model = None
    if gen.steps is None and "steps" in meta:
        gen.steps = as_int(meta.pop("steps"))
    gen.width, gen.height = _size(meta)
    if model is not None:
        gen.settings["model"] = model.name
        if model.hash:
            gen.settings["model_hash"] = model.hash
        if model.metadata:
            gen.settings["model_metadata"] = model.metadata
    if gen.tool == "AUTOMATIC1111":
        text = raw.get("parameters")
        # sd-parsers maps the common keys but drops some (quoted ones such as `Lora hashes`):
        # atlas's own infotext parser keeps every field, in the order written.
        fields = infotext.parse(text)[2] if isinstance(text, str) else {}
        if fields:
            gen.settings["infotext"] = fields
        if gen.denoise is None and "Denoising strength" in fields:
            gen.denoise = as_float(fields["Denoising strength"])
        gen.tool = a1111.label(fields or {"Version": meta.get("Version") or ""}, raw)
    if meta:
        gen.settings["metadata"] = meta
    if len(samplers) > 1:  # the other samplers of a multi-pass graph
        gen.settings["samplers"] = [{"id": s.sampler_id, "name": s.name, "parameters": s.parameters,
                                     "model": s.model.name if s.model else None} for s in samplers]
    gen.settings = json_safe(gen.settings)
    return gen


# Where ComfyUI's save nodes put the API graph: the PNG chunk, and for JPEG/WebP an EXIF text
# prefixed "prompt:" (core's WebP saver uses Model, others Make, ImageDescription or UserComment).
COMFYUI_SOURCES = ("prompt", "exif:Model", "exif:Make", "exif:ImageDescription", "exif:UserComment")


def from_comfyui(raw: dict) -> Generation | None:
    """The passes of the first ComfyUI API graph in `raw` that has a sampler behind its output."""
    for source in COMFYUI_SOURCES:
        passes = comfyui.read_graph(raw.get(source))
        if passes:
            gens = [_comfyui_pass(p, i, len(passes)) for i, p in enumerate(passes)]
            final = gens[-1]
            final.earlier = gens[:-1]
            if len(gens) > 1:
                final.settings["samplers"] = [{"id": p.node, "class_type": p.class_type, "name": p.sampler}
                                              for p in passes]
            if source != "prompt":
                final.settings["graph_source"] = source
            return final
    return None


def _comfyui_pass(found: comfyui.SamplingPass, index: int, count: int) -> Generation:
    gen = Generation(tool="ComfyUI", prompt=found.prompt, negative_prompt=found.negative_prompt,
                     sampler=found.sampler, steps=found.steps, cfg=found.cfg, denoise=found.denoise,
                     width=found.width, height=found.height)
    _set_seed(gen, found.seed)
    if found.model:
        gen.settings["model"] = found.model
    if found.scheduler:
        gen.settings["scheduler"] = found.scheduler
    gen.settings.update(found.settings)
    gen.settings["node"] = {"id": found.node, "class_type": found.class_type}
    if count > 1:
        gen.settings["pass"] = {"index": index + 1, "of": count}
    gen.settings = json_safe(gen.settings)
    return gen


def from_swarmui(text: str) -> Generation | None:
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    params = doc.get("sui_image_params") if isinstance(doc, dict) else None
    if not isinstance(params, dict):
        return None
    params = dict(params)
    gen = Generation(tool="SwarmUI", prompt=str(params.pop("prompt", "") or ""),
                     negative_prompt=str(params.pop("negativeprompt", "") or ""))
    _set_seed(gen, params.pop("seed", None))
    gen.steps = as_int(params.pop("steps", None))
    gen.cfg = as_float(params.pop("cfgscale", None))
    gen.sampler = params.pop("sampler", None)
    gen.width, gen.height = as_int(params.pop("width", None)), as_int(params.pop("height", None))
    if "model" in params:
        gen.settings["model"] = params.pop("model")
    gen.settings.update(params)
    gen.settings = json_safe(gen.settings)
    return gen


def from_atlas(record: dict) -> Generation:
    """A file that atlas wrote: the fields of its last pass (the whole record stays in the raw metadata)."""
    last = record["lineage"][-1]
    gen = Generation(tool="atlas", prompt=last.get("prompt") or "", negative_prompt=last.get("negative_prompt") or "",
                     sampler=last.get("sampler"), steps=last.get("steps"), cfg=last.get("cfg"),
                     denoise=last.get("denoise"), width=last.get("width"), height=last.get("height"))
    _set_seed(gen, last.get("seed"))
    model = last.get("model") or {}
    if model:
        gen.settings.update({"model": model.get("name"), "model_hash": model.get("short_hash"),
                             "model_sha256": model.get("sha256")})
    gen.settings["original_kind"] = last.get("kind")
    return gen


# Keys of the extraction that are not text a tool's parser reads as it stands (see `parser_texts`).
EXTRACTED = ("exif:", "stealth:", "jpeg:", "xmp")


def parser_texts(raw: dict) -> dict:
    """The texts sd-parsers' parsers read, from the extraction of a file (`importers.extract`).

    PNG text chunks go as they are. A1111 and Fooocus write into JPEG/WebP EXIF UserComment and
    into A1111's stealth pixels what they write into the `parameters` chunk of a PNG; a stealth
    text that is a JSON object holds NovelAI's PNG chunks (Description, Comment, ...).
    """
    texts = {k: v for k, v in raw.items() if not k.startswith(EXTRACTED)}
    for source in ("exif:UserComment", "stealth:parameters"):
        if "parameters" in texts or source not in raw:
            continue
        try:
            doc = json.loads(raw[source])
        except ValueError:
            doc = None
        if isinstance(doc, dict) and "Comment" in doc:
            texts.update({str(k): v if isinstance(v, str) else json.dumps(v) for k, v in doc.items()})
        else:
            texts["parameters"] = raw[source]
    return texts


def has_values(gen: Generation | None) -> bool:
    """Whether `gen` holds any generation value: a tool named with nothing read is no metadata."""
    if gen is None:
        return False
    fields = (gen.prompt, gen.negative_prompt, gen.seed, gen.sampler, gen.steps, gen.cfg, gen.denoise, gen.width,
              gen.height, gen.settings.get("model"))
    return any(value not in (None, "") for value in fields)


def interpret(raw: dict) -> Generation | None:
    """The generation facts in `raw` (an extraction: source key -> text), or None when there are none we know.

    Reads only the texts: nothing here sees the image, and nothing is kept between calls.
    """
    from atlas.core.files.embed import PROVENANCE_KEY

    if PROVENANCE_KEY in raw:
        try:
            return from_atlas(json.loads(raw[PROVENANCE_KEY]))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            pass  # a damaged record: fall back to the infotext beside it
    comfy = from_comfyui(raw)
    if comfy is not None:
        return comfy
    texts = parser_texts(raw)
    parameters = texts.get("parameters")
    if isinstance(parameters, str) and "sui_image_params" in parameters:
        found = from_swarmui(parameters)
        if found:
            return found
    if isinstance(parameters, str) and not a1111.is_json(parameters) and not _has_graph(texts):
        found = from_infotext(parameters, raw)  # parsed once: its tool is set when a parameter line is there
        if found.tool is not None:
            return found
    info = _parse_texts(texts) if texts else None
    if info is not None:
        return from_sd_parsers(info, texts)
    if isinstance(parameters, str) and parameters.strip():
        return from_infotext(parameters)
    return None


def from_infotext(text: str, raw: dict | None = None) -> Generation:
    """An A1111-family `parameters` text (A1111 and its forks, Civitai), read by `a1111.read`: the
    prompt always, the fields and the tool when a parameter line is there."""
    found = a1111.read(text, raw)
    seed = found.pop("seed")
    gen = Generation(**found)
    _set_seed(gen, seed)
    gen.settings = json_safe(gen.settings)
    return gen


def _has_graph(texts: dict) -> bool:
    """Whether a ComfyUI graph lies beside the texts (a save node's infotext is then read with the graph)."""
    return "prompt" in texts or "workflow" in texts


def _parse_texts(texts: dict):
    """The first of sd-parsers' parsers that reads `texts` (each parser's `parse(dict)`: no image, no cache)."""
    from sd_parsers.parsers import MANAGED_PARSERS

    for kind in MANAGED_PARSERS:  # fresh parsers per file: nothing of one file can stay for the next
        try:
            return kind().parse(dict(texts))  # type: ignore[abstract]  # typed as the base class; each is concrete
        except Exception:  # ParserError, and whatever a parser trips on in a foreign text
            continue
    return None
