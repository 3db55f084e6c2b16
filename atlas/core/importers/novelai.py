"""NovelAI's metadata: PNG text chunks, the same chunks as JSON in EXIF or in the alpha channel.

NovelAI writes these PNG chunks: Title ("NovelAI generated image", older "AI generated image"),
Description (the prompt), Software ("NovelAI"), Source (the model and a short hash: "Stable
Diffusion XL C1E1DE52", "NovelAI Diffusion V4.5 4BDE2A90"), Generation time, and Comment, a JSON
object with the settings: prompt, uc (negative), seed, steps, scale (CFG), width, height, sampler
(k-diffusion's name with "k_"), noise_schedule, strength and noise (img2img), and since V4
`v4_prompt` / `v4_negative_prompt`: {"caption": {"base_caption", "char_captions": [{"char_caption",
"centers": [{"x", "y"}]}]}, "use_coords", "use_order"}.

The same chunks come as one JSON object (chunk name -> text) in A1111-style stealth pixels
(`stealth:parameters`, PNG and lossless WebP alpha) and in a WebP's EXIF UserComment, where
NovelAI also writes Software and the Description (after four NUL bytes) as EXIF tags.

V4 character prompts are kept in settings["characters"] and added to the prompt (and their
negatives to the negative prompt), one line each after the base caption, so that prompt search
finds them; settings["base_prompt"] keeps the base caption alone.
"""

from atlas.core.errors import BadInput
from atlas.core.importers.generation import Generation, load_object, number_fields, set_sampler, set_seed, text

TOOL = "NovelAI"
CHUNKS = ("Title", "Description", "Software", "Source", "Generation time", "Comment")
TITLES = ("NovelAI generated image", "AI generated image")
# Comment keys read into pass fields (the rest go to settings as they are).
READ = frozenset({"prompt", "uc", "seed", "steps", "scale", "width", "height", "sampler", "noise_schedule",
                  "v4_prompt", "v4_negative_prompt"})
HASH_LENGTH = 8


def chunks(raw: dict) -> dict:
    """NovelAI's chunk texts from wherever the file carries them (see the module's docstring)."""
    found = {key: raw[key] for key in CHUNKS if isinstance(raw.get(key), str)}
    if "Comment" not in found:
        for source in ("stealth:parameters", "exif:UserComment"):
            doc = load_object(raw.get(source))
            if doc is not None and "Comment" in doc:
                found.update({str(k): v for k, v in doc.items() if k in CHUNKS})
                break
    if "Software" not in found and isinstance(raw.get("exif:Software"), str):
        found["Software"] = raw["exif:Software"]
    description = raw.get("exif:ImageDescription")
    if isinstance(description, str) and (found.get("Software") or "").startswith(TOOL):
        found["Description"] = description.lstrip("\0")  # NovelAI's WebP puts four NULs before it
    return found


def is_novelai(found: dict) -> bool:
    software = found.get("Software")
    return (isinstance(software, str) and software.strip().startswith(TOOL)) or (
        found.get("Title") in TITLES and "Comment" in found)


def read(raw: dict) -> Generation | None:
    """The pass NovelAI's metadata in `raw` describes; None when there is none.

    Raises BadInput when the file is NovelAI's but its Comment is not the JSON object it should be.
    """
    found = chunks(raw)
    if not is_novelai(found):
        return None
    comment = load_object(found.get("Comment"))
    if comment is None:
        if "Comment" in found:
            raise BadInput("NovelAI metadata whose Comment is not a JSON object")
        description = text(found.get("Description"))
        if not description:
            raise BadInput("NovelAI metadata without its Comment (the settings) or a Description (the prompt)")
        comment = {}
    gen = Generation(tool=TOOL)
    v4 = _caption(comment.get("v4_prompt"))
    v4_negative = _caption(comment.get("v4_negative_prompt"))
    base = text(comment.get("prompt")) or text(v4.get("base_caption")) or text(found.get("Description"))
    negative = text(comment.get("uc")) or text(v4_negative.get("base_caption"))
    characters = _characters(v4, v4_negative)
    gen.prompt = "\n".join([base, *(c["prompt"] for c in characters if c["prompt"])])
    gen.negative_prompt = "\n".join([negative, *(c["negative"] for c in characters if c["negative"])])
    if characters:
        gen.settings["base_prompt"] = base
        gen.settings["base_negative_prompt"] = negative
        gen.settings["characters"] = characters
        for key in ("use_coords", "use_order"):
            if isinstance(comment.get("v4_prompt"), dict) and key in comment["v4_prompt"]:
                gen.settings[key] = comment["v4_prompt"][key]
    set_seed(gen, comment.get("seed"))
    set_sampler(gen, comment.get("sampler"), comment.get("noise_schedule"))
    # `strength` is written for every image; it is a denoise only where an image was its start.
    img2img = "img2img" in str(comment.get("request_type", "")).lower()
    number_fields(gen, comment.get("steps"), comment.get("scale"), comment.get("strength") if img2img else None,
                  comment.get("width"), comment.get("height"))
    source = found.get("Source")
    if isinstance(source, str) and source.strip():
        name, _, short = source.strip().rpartition(" ")
        if name and len(short) == HASH_LENGTH and all(c in "0123456789abcdefABCDEF" for c in short):
            gen.settings.update({"model": name, "model_hash": short})
        else:
            gen.settings["model"] = source.strip()
    for key in ("Title", "Generation time"):
        if isinstance(found.get(key), str):
            gen.settings[key.lower().replace(" ", "_")] = found[key]
    gen.settings["novelai"] = {k: v for k, v in comment.items() if k not in READ}
    return gen


def _caption(doc) -> dict:
    caption = doc.get("caption") if isinstance(doc, dict) else None
    return caption if isinstance(caption, dict) else {}


def _characters(v4: dict, v4_negative: dict) -> list[dict]:
    """V4's character prompts, each with its negative (matched by position) and its centres."""
    def captions(caption: dict) -> list:
        found = caption.get("char_captions")
        return [c for c in found if isinstance(c, dict)] if isinstance(found, list) else []

    positive, negative = captions(v4), captions(v4_negative)
    out = []
    for i in range(max(len(positive), len(negative))):
        char = positive[i] if i < len(positive) else {}
        neg = negative[i] if i < len(negative) else {}
        centers = char.get("centers") if isinstance(char.get("centers"), list) else []
        out.append({"prompt": text(char.get("char_caption")), "negative": text(neg.get("char_caption")),
                    "centers": centers})
    return out
