"""Draw Things (iOS/macOS): XMP with xmp:CreatorTool "Draw Things", dc:description holding an A1111-like
text and exif:UserComment holding a JSON object: c (prompt), uc (negative), seed, steps, scale
(CFG), sampler (A1111's names, "DPM++ 2M Karras"), model (a file name), size ("1024x1024"),
strength (the img2img denoise; 1 for txt2img), lora, and more. The XMP packet is in a PNG iTXt
chunk or a JPEG's APP1 segment."""

from atlas.core.errors import BadInput
from atlas.core.files import xmp
from atlas.core.importers.fooocus import resolution
from atlas.core.importers.generation import Generation, load_object, number_fields, set_sampler, set_seed, text

TOOL = "Draw Things"
READ = frozenset({"c", "uc", "seed", "steps", "scale", "sampler", "model", "size", "strength"})


def packet(raw: dict) -> str | None:
    found = raw.get("xmp", raw.get(xmp.PNG_KEYWORD))
    return found if isinstance(found, str) and "Draw Things" in found else None


def read(raw: dict) -> Generation | None:
    """The pass Draw Things' XMP in `raw` describes; None when the file has no XMP from Draw Things."""
    found = packet(raw)
    if found is None:
        return None
    try:
        props = xmp.parse(found, "Draw Things XMP")
    except BadInput:
        if "CreatorTool>Draw Things" in found or 'CreatorTool="Draw Things' in found:
            raise
        return None  # broken XML that only mentions Draw Things: not its metadata
    tool = next((v for k, v in props.items() if k.endswith("CreatorTool")), None)
    if not (isinstance(tool, str) and tool.startswith(TOOL)):
        return None
    comment = next((v for k, v in props.items() if k.endswith("UserComment")), None)
    doc = load_object(comment)
    if doc is None:
        raise BadInput("Draw Things XMP without its JSON settings (exif:UserComment)")
    gen = Generation(tool=TOOL, prompt=text(doc.get("c")), negative_prompt=text(doc.get("uc")))
    set_seed(gen, doc.get("seed"))
    set_sampler(gen, doc.get("sampler"))
    width, height = resolution(doc.get("size"))
    strength = doc.get("strength")
    number_fields(gen, doc.get("steps"), doc.get("scale"), strength if strength not in (1, 1.0) else None,
                  width, height)
    if isinstance(doc.get("model"), str) and doc["model"]:
        gen.settings["model"] = doc["model"]
    gen.settings["drawthings"] = {k: v for k, v in doc.items() if k not in READ}
    return gen
