"""What a file's metadata says about how it was made: tool, prompts, seed, sampler, model, ...

The texts come from `importers.extract`; each tool has its own reader, chosen by content:
atlas's own record, Civitai's JSON, TensorArt, ComfyUI (`comfyui`, its passes here), NovelAI,
InvokeAI, SwarmUI, Fooocus, RuinedFooocus, Easy Diffusion, Hugging Face Spaces, Draw Things, and
A1111 with its forks (`a1111`). Everything a reader finds that has no column of its own goes into
`settings`, and the metadata itself is always kept verbatim by the caller, so nothing is lost
when a format is only partly understood. A file that carries a tool's metadata which its reader
cannot read raises BadInput with the reason: it is reported so, never imported as an empty record.
"""

import json

from atlas.core.errors import BadInput
from atlas.core.importers import (
    a1111,
    civitai,
    comfyui,
    drawthings,
    easydiffusion,
    fooocus,
    hfspace,
    invokeai,
    novelai,
    swarmui,
    tensorart,
)
from atlas.core.importers.generation import Generation, json_safe, load_object, set_sampler, set_seed

__all__ = ["Generation", "has_values", "interpret", "json_safe"]


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


def _has_comfyui_graph(raw: dict) -> bool:
    return any(comfyui.load_graph(raw.get(source)) is not None for source in COMFYUI_SOURCES)


def _comfyui_pass(found: comfyui.SamplingPass, index: int, count: int) -> Generation:
    gen = Generation(tool="ComfyUI", prompt=found.prompt, negative_prompt=found.negative_prompt,
                     steps=found.steps, cfg=found.cfg, denoise=found.denoise, width=found.width, height=found.height)
    set_seed(gen, found.seed)
    set_sampler(gen, found.sampler, found.scheduler)
    if found.model:
        gen.settings["model"] = found.model
    if found.scheduler:
        gen.settings["scheduler"] = found.scheduler
    gen.settings.update(found.settings)
    gen.settings["node"] = {"id": found.node, "class_type": found.class_type}
    if count > 1:
        gen.settings["pass"] = {"index": index + 1, "of": count}
    return gen


def from_atlas(record: dict) -> Generation:
    """A file that atlas wrote: the fields of its last pass (the whole record stays in the raw metadata)."""
    last = record["lineage"][-1]
    gen = Generation(tool="atlas", prompt=last.get("prompt") or "", negative_prompt=last.get("negative_prompt") or "",
                     sampler=last.get("sampler"), steps=last.get("steps"), cfg=last.get("cfg"),
                     denoise=last.get("denoise"), width=last.get("width"), height=last.get("height"))
    set_seed(gen, last.get("seed"))
    model = last.get("model") or {}
    if model:
        gen.settings.update({"model": model.get("name"), "model_hash": model.get("short_hash"),
                             "model_sha256": model.get("sha256")})
    gen.settings["original_kind"] = last.get("kind")
    return gen


def has_values(gen: Generation | None) -> bool:
    """Whether `gen` holds any generation value: a tool named with nothing read is no metadata."""
    if gen is None:
        return False
    fields = (gen.prompt, gen.negative_prompt, gen.seed, gen.sampler, gen.steps, gen.cfg, gen.denoise, gen.width,
              gen.height, gen.settings.get("model"), gen.settings.get("seed"))
    return any(value not in (None, "") for value in fields)


# Where a tool writes its text (an infotext or a JSON object): PNG's `parameters` chunk, EXIF
# UserComment in JPEG/WebP, A1111's stealth pixels.
TEXT_SOURCES = ("parameters", "exif:UserComment", "stealth:parameters")


def interpret(raw: dict) -> Generation | None:
    """The generation facts in `raw` (an extraction: source key -> text), or None when there are none.

    Reads only the texts: nothing here sees the image, and nothing is kept between calls. Raises
    BadInput, with the reason, for metadata of a known kind that cannot be read.
    """
    found = _interpret(raw)
    if found is not None:
        for step in [*found.earlier, found]:
            step.settings = json_safe(step.settings)
    return found


def _interpret(raw: dict) -> Generation | None:
    from atlas.core.files.embed import PROVENANCE_KEY

    if PROVENANCE_KEY in raw:
        try:
            return from_atlas(json.loads(raw[PROVENANCE_KEY]))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            pass  # a damaged record: fall back to the infotext beside it
    docs = {source: doc for source in TEXT_SOURCES if (doc := _json_text(raw.get(source))) is not None}
    comment = docs.get("exif:UserComment")
    civitai_doc = comment if comment is not None and civitai.is_civitai(comment) else civitai.png_doc(raw)
    if civitai_doc is not None:
        found = civitai.read_extra(civitai_doc) or from_comfyui(raw)
        if found is not None:
            civitai.label(found, civitai_doc)
            return found
    if tensorart.KEY in raw:
        return tensorart.read(raw, from_comfyui(raw))
    found = from_comfyui(raw) or novelai.read(raw) or invokeai.read(raw)
    if found is not None:
        return found
    for doc in docs.values():
        found = _from_json(doc, raw)
        if found is not None:
            return found
    if easydiffusion.is_easy_diffusion(raw):  # PNG: one chunk per field
        return easydiffusion.read(raw)
    found = drawthings.read(raw)
    if found is not None:
        return found
    broken = []  # texts that open as JSON and are not (cut short, say): never read as a prompt
    for source in TEXT_SOURCES:
        text = raw.get(source)
        if not isinstance(text, str) or not text.strip() or source in docs:
            continue
        if a1111.is_json(text):
            broken.append(source)
            continue
        found = from_infotext(text, raw)  # parsed once: its tool is set when a parameter line is there
        if found.tool is not None or source == "parameters":
            return found  # a bare prompt in `parameters` is still the prompt
    if _has_comfyui_graph(raw):
        raise BadInput("a ComfyUI graph with no sampler behind its saved image")
    if isinstance(raw.get("workflow"), str) and raw["workflow"].strip():
        raise BadInput("a ComfyUI workflow without its API graph (`prompt`), which is what atlas reads")
    if docs:
        raise BadInput(f"a JSON {', '.join(docs)} text of no tool atlas reads")
    if broken:
        raise BadInput(f"a {', '.join(broken)} text that opens as JSON but is not valid JSON")
    return None


def _json_text(value) -> dict | None:
    """The JSON object a tool wrote as its text, else None (an infotext, or no text)."""
    return load_object(value) if isinstance(value, str) and a1111.is_json(value) else None


def _from_json(doc: dict, raw: dict) -> Generation | None:
    """The pass a tool's JSON text describes, for the tools that write one; None for an unknown JSON."""
    if swarmui.is_swarmui(doc):
        return swarmui.read(doc)
    if fooocus.is_ruined_fooocus(doc):
        return fooocus.read_ruined_fooocus(doc)
    if fooocus.is_fooocus(doc, raw):
        return fooocus.read_fooocus(doc)
    if easydiffusion.is_easy_diffusion(doc):
        return easydiffusion.read(doc)
    if hfspace.is_hf_space(doc):
        return hfspace.read(doc)
    return None


def from_infotext(text: str, raw: dict | None = None) -> Generation:
    """An A1111-family text (A1111 and its forks, Civitai), read by `a1111.read`: the prompt always,
    the fields and the tool when a parameter line is there."""
    found = a1111.read(text, raw)
    seed = found.pop("seed")
    gen = Generation(**found)
    set_seed(gen, seed)
    return gen
