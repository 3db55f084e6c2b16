"""A1111's infotext as A1111 and every fork writes it: which tool wrote it, and its generation fields.

The text is read by atlas's own parser (`files.infotext`), so every field is kept in the order written,
prompts keep their trailing newlines, and a text with no `Sampler:` is read like any other. Keys are
matched whatever their case (Forge writes `CFG Scale`, A1111 `CFG scale`).

Which tool wrote it (see README.md, Import):
- `Version: v1.10.1` (a git tag): AUTOMATIC1111; no `Version:` at all: AUTOMATIC1111 too (older releases).
- `Version: f2.0.1v1.10.1-previous-224-g900196889`: Forge (its own version, then A1111's).
- `Version: f1.7.0v2-v1.10.1RC-...` (a revision number after Forge's version, then `-v`): reForge.
- `Version: f1.5.1-v1.10.1...` (a dash right after Forge's version): EasyReforge.
- `Version: classic`: Forge Classic; `Version: neo...`: Forge Neo.
- `App: SD.Next` (its `Version:` is a git hash): SD.Next.
- A `parameters-json` or `smproj` text beside the infotext: Stability Matrix.
- `Civitai resources:` and no `Version:`: Civitai's generator.
"""

import json
import re

from atlas.core import sampler_names as samplers
from atlas.core import seeding
from atlas.core.files import infotext
from atlas.core.importers.values import as_float, as_int

AUTOMATIC1111 = "AUTOMATIC1111"
FORGE_VERSION = re.compile(r"^f\d+(\.\d+)*")
REFORGE = re.compile(r"^f\d+(\.\d+)*v\d+-v")
EASY_REFORGE = re.compile(r"^f\d+(\.\d+)*-v")
STABILITY_MATRIX_KEYS = ("parameters-json", "smproj")


def label(fields: dict[str, str], raw: dict | None = None) -> str:
    """The tool that wrote an infotext with these `fields`, from `Version:`, `App:` and the texts beside it."""
    lower = {key.lower(): value for key, value in fields.items()}
    version = (lower.get("version") or "").strip()
    app = (lower.get("app") or "").strip().lower()
    if raw and any(key in raw for key in STABILITY_MATRIX_KEYS):
        return "Stability Matrix"
    if app.replace(" ", "") in ("sd.next", "sdnext") or version.lower().startswith(("sd.next", "sdnext")):
        return "SD.Next"
    if version.lower() == "classic":
        return "Forge Classic"
    if version.lower().startswith("neo"):
        return "Forge Neo"
    if REFORGE.match(version) or "reforge" in version.lower():
        return "reForge"
    if EASY_REFORGE.match(version):
        return "EasyReforge"
    if FORGE_VERSION.match(version):
        return "Forge"
    if version.lower().startswith("fooocus"):  # Fooocus' "a1111" metadata scheme
        return "Fooocus"
    if version == "ComfyUI":  # save nodes that write A1111 text
        return "ComfyUI"
    if not version and "civitai resources" in lower:
        return "Civitai"
    return AUTOMATIC1111


def is_json(text: str) -> bool:
    """Other tools write a JSON document as `parameters`: never read it as an infotext."""
    return text.lstrip().startswith(("{", "["))


def read(text: str, raw: dict | None = None) -> dict:
    """The generation fields of an infotext, as keyword arguments of `tools.Generation`.

    `tool` is None for a text with no parameter line (a bare prompt says nothing of its tool).
    `settings` keeps every field (`infotext`), the model and its hash, the sampler as written
    (`sampler_original`) beside A1111's name, the schedule type, and Civitai's resources as JSON.
    """
    prompt, negative, fields = infotext.parse(text)
    lower = {key.lower(): value for key, value in fields.items()}
    written = lower.get("sampler")
    sampler, schedule = samplers.normalise(written)
    schedule = samplers.schedule_type(lower.get("schedule type")) or lower.get("schedule type") or schedule
    settings: dict = {}
    for key, name in (("model", "model"), ("model hash", "model_hash"), ("vae", "vae"), ("vae hash", "vae_hash")):
        if lower.get(key):
            settings[name] = lower[key]
    if written is not None:
        settings["sampler_original"] = written
    if schedule:
        settings["schedule_type"] = schedule
    resources = lower.get("civitai resources")
    if resources:
        try:
            settings["civitai_resources"] = json.loads(resources)
        except ValueError:
            settings["civitai_resources"] = resources
    tool = label(fields, raw) if fields else None
    settings.update(seeding.settings_from_infotext(fields, tool))
    if fields:
        settings["infotext"] = fields
    size = infotext.size(lower["size"]) if "size" in lower else None
    width, height = size if size else (None, None)
    return {"tool": tool, "prompt": prompt, "negative_prompt": negative,
            "seed": as_int(lower.get("seed")), "sampler": sampler, "steps": as_int(lower.get("steps")),
            "cfg": as_float(lower.get("cfg scale")), "denoise": as_float(lower.get("denoising strength")),
            "width": width, "height": height, "settings": settings}
