"""Put a render's record into its PNG: the A1111 `parameters` text and the full atlas record."""

import json

from atlas.core.metadata import infotext, png

PARAMETERS_KEY = "parameters"
PROVENANCE_KEY = "atlas:provenance"


def a1111_params(record: dict) -> tuple[str, str, dict]:
    """(prompt, negative prompt, ordered parameters) describing the last pass as A1111 would."""
    last = record["lineage"][-1]
    model = last.get("model") or {}
    params = {
        "Steps": last.get("steps"),
        "Sampler": last.get("sampler"),
        "CFG scale": last.get("cfg"),
        "Seed": last.get("seed"),
        "Size": f"{last['width']}x{last['height']}" if last.get("width") else None,
        "Model hash": model.get("short_hash"),
        "Model": model.get("name"),
        "Denoising strength": last.get("denoise") if last["kind"] != "txt2img" else None,
    }
    if last["kind"] == "upscale" and last.get("upscaler"):
        params["SD upscale upscaler"] = last["upscaler"]["name"]
        params["SD upscale overlap"] = last["settings"].get("overlap")
    version = (last.get("software") or {}).get("atlas")
    params["Version"] = f"atlas {version}" if version else None
    return last.get("prompt", ""), last.get("negative_prompt", ""), params


def record_json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def embed_png(data: bytes, record: dict) -> bytes:
    """`data` with the `parameters` and provenance chunks set; pixels untouched."""
    prompt, negative, params = a1111_params(record)
    chunks = [png.text_chunk(PARAMETERS_KEY, infotext.write(prompt, negative, params)),
              png.text_chunk(PROVENANCE_KEY, record_json(record), compress=True)]
    return png.with_text(data, chunks)


def read_record(data: bytes, what: str = "file") -> dict | None:
    """The embedded atlas record (schema-validated), or None when the file has none."""
    found = png.texts(png.read_chunks(data, what), what).get(PROVENANCE_KEY)
    if found is None:
        return None
    from atlas.core.errors import BadInput
    from atlas.core.record import validate

    try:
        record = json.loads(found)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{what}: the atlas record is not valid JSON: {exc}") from None
    validate(record)
    return record
