"""Put a render's record into its PNG: the A1111 `parameters` text, the full atlas record and XMP."""

import json
import os

from atlas.core import seeding
from atlas.core.files import infotext, png, xmp

PARAMETERS_KEY = "parameters"
PROVENANCE_KEY = "atlas:provenance"


def a1111_params(record: dict) -> tuple[str, str, dict]:
    """(prompt, negative prompt, ordered parameters) describing the last pass as A1111 would."""
    last = record["lineage"][-1]
    written = (last.get("settings") or {}).get("infotext") if last["kind"] == "import" else None
    if written:  # an imported file: its fields as its maker wrote them (Clip skip, Version... have no column)
        return last.get("prompt") or "", last.get("negative_prompt") or "", dict(written)
    model = last.get("model") or {}
    # An atlas pass that recorded no source drew with the CPU (atlas's only source before there were others).
    seeds = seeding.infotext_from_settings(last.get("settings") or {}, last.get("sampler"),
                                           None if last["kind"] == "import" else seeding.DEFAULT_RNG)
    params = {
        "Steps": last.get("steps"),
        "Sampler": last.get("sampler"),
        "Schedule type": (last.get("settings") or {}).get("schedule_type"),
        "CFG scale": last.get("cfg"),
        "Seed": last.get("seed"),
        "Size": f"{last['width']}x{last['height']}" if last.get("width") else None,
        "Model hash": model.get("short_hash"),
        "Model": model.get("name"),
        **{key: seeds.get(key) for key in ("Variation seed", "Variation seed strength", "Seed resize from")},
        "Denoising strength": last.get("denoise") if last["kind"] != "txt2img" else None,
        "ENSD": seeds.get("ENSD"),
        "RNG": seeds.get("RNG"),
    }
    if last["kind"] == "upscale" and last.get("upscaler"):
        params["SD upscale upscaler"] = last["upscaler"]["name"]
        params["SD upscale overlap"] = last["settings"].get("overlap")
    version = (last.get("software") or {}).get("atlas")
    params["Version"] = f"atlas {version}" if version else None
    return last.get("prompt", ""), last.get("negative_prompt", ""), params


def record_json(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parameters_text(record: dict) -> str:
    return infotext.write(*a1111_params(record))


def metadata_chunks(record: dict) -> list[png.Chunk]:
    """The text chunks atlas writes: A1111 `parameters`, the provenance record, the XMP packet."""
    return [png.text_chunk(PARAMETERS_KEY, parameters_text(record)),
            png.text_chunk(PROVENANCE_KEY, record_json(record), compress=True),
            png.itxt_chunk(xmp.PNG_KEYWORD, xmp.build(record))]


def embed_png(data: bytes, record: dict) -> bytes:
    """`data` with the `parameters`, provenance and XMP chunks set; pixels untouched."""
    return png.with_text(data, metadata_chunks(record))


def embed_file(src: str | os.PathLike, dst: str | os.PathLike, record: dict, what: str | None = None,
               fsync: bool = True) -> None:
    """Write `src` to `dst` with the metadata chunks set, streaming: the image is never loaded."""
    png.rewrite_file(src, dst, metadata_chunks(record), what, fsync=fsync)


def read_record(data: bytes, what: str = "file") -> dict | None:
    """The embedded atlas record (schema-validated), or None when the file has none."""
    found = png.texts(png.read_chunks(data, what), what).get(PROVENANCE_KEY)
    if found is None:
        return None
    from atlas.core.errors import BadInput
    from atlas.core.limits import loads_json
    from atlas.core.schemas import validate

    try:
        record = loads_json(found, f"{what}: the atlas record")
    except json.JSONDecodeError as exc:
        raise BadInput(f"{what}: the atlas record is not valid JSON: {exc}") from None
    validate("provenance", record, what="provenance record")
    return record
