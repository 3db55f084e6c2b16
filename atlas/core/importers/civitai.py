"""Civitai's on-site generator, JSON form (JPEG EXIF UserComment): a ComfyUI API graph whose object also
holds "extra" ({"airs": [the resources' AIR URNs]}) and "extraMetadata" (a JSON text: prompt,
negativePrompt, cfgScale, sampler (A1111's name), clipSkip, steps, seed, width, height,
baseModel, resources, transformations). extraMetadata has the values as asked for; a graph
without it is read as ComfyUI's, labelled Civitai. In a PNG the same come as chunks: the graph in
`prompt`, and `extraMetadata` (and `extra`) chunks of their own. Civitai's A1111 text (`Civitai
resources:`) is an infotext, read by `importers.a1111`."""

from atlas.core.importers.generation import Generation, load_object, number_fields, set_sampler, set_seed, text

TOOL = "Civitai"
READ = frozenset({"prompt", "negativePrompt", "cfgScale", "sampler", "steps", "seed", "width", "height", "baseModel",
                  "scheduler"})


def is_civitai(doc: dict) -> bool:
    extra = doc.get("extra")
    return "extraMetadata" in doc or (isinstance(extra, dict) and "airs" in extra)


def png_doc(raw: dict) -> dict | None:
    """Civitai's PNG chunks as the one object its JPEG holds, or None when the file has no extraMetadata chunk."""
    if not isinstance(raw.get("extraMetadata"), str):
        return None
    doc: dict = {"extraMetadata": raw["extraMetadata"]}
    extra = load_object(raw.get("extra"))
    if extra is not None:
        doc["extra"] = extra
    return doc


def read_extra(doc: dict) -> Generation | None:
    """The pass extraMetadata describes; None when there is no extraMetadata with a prompt or seed."""
    meta = load_object(doc.get("extraMetadata"))
    if meta is None or not any(key in meta for key in ("prompt", "seed")):
        return None
    gen = Generation(tool=TOOL, prompt=text(meta.get("prompt")), negative_prompt=text(meta.get("negativePrompt")))
    set_seed(gen, meta.get("seed"))
    set_sampler(gen, meta.get("sampler"), meta.get("scheduler"))
    number_fields(gen, meta.get("steps"), meta.get("cfgScale"), None, meta.get("width"), meta.get("height"))
    if isinstance(meta.get("baseModel"), str) and meta["baseModel"]:
        gen.settings["base_model"] = meta["baseModel"]
    label(gen, doc)
    gen.settings["civitai"] = {k: v for k, v in meta.items() if k not in READ}
    return gen


def label(gen: Generation, doc: dict) -> None:
    """Civitai's name on a pass, with the resources its "extra" lists."""
    gen.tool = TOOL
    extra = doc.get("extra")
    if isinstance(extra, dict) and isinstance(extra.get("airs"), list):
        gen.settings["civitai_resources"] = extra["airs"]
