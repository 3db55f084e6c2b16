"""Everything a PNG, JPEG or WebP file carries about its making, whoever made it.

Reads without decoding pixels: PNG through the streaming chunk reader, JPEG and WebP through
Pillow's lazy open (headers and metadata segments only). Malformed files raise BadInput; a
metadata block that is present but broken is reported in `problems` and the rest is still shown.
"""

import json
import os
from pathlib import Path

from atlas.core.errors import BadInput
from atlas.core.files import embed, infotext, png, xmp
from atlas.core.files.regular import open_regular
from atlas.core.limits import MAX_SHOWN_TEXT

JPEG_MAGIC = b"\xff\xd8\xff"


def sniff(head: bytes) -> str | None:
    if head.startswith(png.SIGNATURE):
        return "png"
    if head.startswith(JPEG_MAGIC):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def parameters_entry(text: str) -> dict:
    prompt, negative, params = infotext.parse(text)
    size = infotext.size(params["Size"]) if "Size" in params else None
    return {"raw": text, "prompt": prompt, "negative_prompt": negative, "params": params,
            "size": list(size) if size else None}


def _record(text: str, where: str, problems: list[str]) -> dict | None:
    from atlas.core.limits import loads_json
    from atlas.core.schemas import problems as schema_problems

    try:
        record = loads_json(text, f"{where}: the atlas record")
    except json.JSONDecodeError as exc:
        problems.append(f"{where}: the atlas record is not valid JSON: {exc}")
        return None
    except BadInput as exc:  # nested too deep to read safely: reported, the rest is still shown
        problems.append(str(exc))
        return None
    for problem in schema_problems("provenance", record):
        problems.append(f"{where}: the atlas record breaks the schema at {problem}")
    return record


def _xmp(packet, what: str, problems: list[str]) -> dict | None:
    try:
        return xmp.parse(packet, what)
    except BadInput as exc:
        problems.append(str(exc))
        return None


def _png(path: Path, what: str, facts: dict) -> None:
    chunks = png.read_file_chunks(path, what)
    header = chunks[0].data
    facts["width"], facts["height"] = int.from_bytes(header[0:4], "big"), int.from_bytes(header[4:8], "big")
    texts: dict[str, str] = {}
    left = MAX_SHOWN_TEXT  # a hundred chunks each just under the per-chunk cap would be gigabytes
    for chunk in chunks:
        if chunk.type in png.TEXT_TYPES and left > 0:
            try:
                key, text = png.decode_text(chunk, what)
            except BadInput as exc:  # one broken chunk does not hide the others
                facts["problems"].append(str(exc))
                continue
            left -= len(text)
            if left < 0:
                facts["problems"].append(f"{what}: more than MAX_SHOWN_TEXT ({MAX_SHOWN_TEXT >> 20} MiB) of "
                                         f"text chunks; chunk {key!r} and those after it are not shown")
                break
            texts[key] = text
    if embed.PARAMETERS_KEY in texts:
        facts["parameters"] = parameters_entry(texts.pop(embed.PARAMETERS_KEY))
    if embed.PROVENANCE_KEY in texts:
        facts["record"] = _record(texts.pop(embed.PROVENANCE_KEY), f"{what}: chunk {embed.PROVENANCE_KEY}",
                                  facts["problems"])
    if xmp.PNG_KEYWORD in texts:
        facts["xmp"] = _xmp(texts.pop(xmp.PNG_KEYWORD), what, facts["problems"])
    facts["text"] = texts
    facts["chunks"] = [c.type.decode("latin-1") for c in chunks]


def _pillow(path: Path, what: str, facts: dict) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            facts["width"], facts["height"] = image.size
            exif, packet = image.info.get("exif"), image.info.get("xmp")
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"{what}: not a readable {facts['format'].upper()} file: {exc}") from None
    if exif:
        comment = _user_comment(exif, what, facts["problems"])
        if comment is not None:
            facts["exif_user_comment"] = comment
            facts["parameters"] = parameters_entry(comment)
    if packet:
        found = _xmp(packet, what, facts["problems"])
        facts["xmp"] = found
        if found and "atlas:Provenance" in found:
            facts["record"] = _record(found.pop("atlas:Provenance"), f"{what}: XMP atlas:Provenance",
                                      facts["problems"])


def _user_comment(exif: bytes, what: str, problems: list[str]) -> str | None:
    import piexif
    import piexif.helper

    try:
        raw = piexif.load(exif).get("Exif", {}).get(piexif.ExifIFD.UserComment)
        if raw and raw[:8] == b"UNICODE\0":  # UTF-16: a BOM, else the TIFF header's order (piexif assumes "MM")
            order = "le" if raw[8:10] == b"\xff\xfe" or (exif.removeprefix(b"Exif\0\0")[:2] == b"II"
                                                         and raw[8:10] != b"\xfe\xff") else "be"
            return raw[8:].decode(f"utf-16-{order}", errors="replace").lstrip("\ufeff").rstrip("\0")
        return piexif.helper.UserComment.load(raw) if raw else None
    except Exception as exc:  # piexif raises bare ValueError/struct.error/... on malformed EXIF
        problems.append(f"{what}: unreadable EXIF: {type(exc).__name__}: {exc}")
        return None


def inspect_file(path: str | os.PathLike, trust_anchor: bytes | None = None, what: str | None = None) -> dict:
    """The embedded metadata of `path`: A1111 parameters (parsed), the atlas record (schema-checked),
    XMP, EXIF UserComment, other text chunks and the C2PA manifests with their validation state
    (Trusted when signed under `trust_anchor`)."""
    from atlas.core.catalogue.store import sha256_file
    from atlas.core.files import credentials

    path = Path(path)
    what = what or str(path)
    if path.is_dir():
        raise BadInput(f"{what}: is a directory, not a file")
    try:
        with open_regular(path, what) as fh:  # FIFOs and devices refused before they can block
            head = fh.read(16)
    except OSError as exc:
        raise BadInput(f"{what}: cannot read it: {exc.strerror}") from None
    if not head:
        raise BadInput(f"{what}: empty file, not an image")
    fmt = sniff(head)
    if fmt is None:
        raise BadInput(f"{what}: not a PNG, JPEG or WebP image")
    facts = {"file": str(path), "format": fmt, "size_bytes": path.stat().st_size, "sha256": sha256_file(path),
             "width": None, "height": None, "parameters": None, "record": None, "xmp": None,
             "exif_user_comment": None, "text": {}, "c2pa": None, "problems": []}
    if fmt == "png":
        _png(path, what, facts)
    else:
        _pillow(path, what, facts)
    facts["c2pa"] = credentials.read(path, trust_anchor, credentials.MIME[fmt])
    return facts
