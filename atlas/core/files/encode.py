"""A render's file in an export format, with all of its metadata.

PNG keeps its pixels and gets the atlas chunks (unchanged when they are already there, so a C2PA
signature survives). JPEG and WebP are encoded from the pixels and carry, as A1111 writes them,
the infotext in EXIF UserComment (UNICODE), plus the XMP packet; the whole provenance record
travels inside that XMP as `atlas:Provenance` (JSON), so the file needs no sidecar.
"""

import io
import json
import os
import shutil

from atlas.core.errors import BadInput
from atlas.core.files import embed, jpeg_xmp, png, xmp

FORMATS = ("png", "jpeg", "webp")
# The chunks that are the image itself (pixels, palette, colour space, animation, pixel size):
# what a stripped export keeps. Text, EXIF, time stamps and C2PA (caBX) are metadata.
IMAGE_CHUNKS = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"cHRM", b"gAMA", b"iCCP", b"sBIT",
                          b"sRGB", b"cICP", b"mDCV", b"cLLI", b"pHYs", b"acTL", b"fcTL", b"fdAT"})
JPEG_QUALITY = 95
WEBP_QUALITY = 95


def exif_bytes(record: dict, comment: bool = True) -> bytes:
    """EXIF with the infotext as a UNICODE UserComment, and the author and tool where ASCII allows."""
    import piexif
    import piexif.helper

    render = record["render"]
    zeroth = {piexif.ImageIFD.Software: b"atlas"}
    for tag, value in ((piexif.ImageIFD.Artist, render.get("author")),
                       (piexif.ImageIFD.ImageDescription, render.get("title"))):
        if value and value.isascii():  # EXIF ASCII fields; the full text is in XMP anyway
            zeroth[tag] = value.encode("ascii")
    exif = {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(embed.parameters_text(record),
                                                                       encoding="unicode")} if comment else {}
    return piexif.dump({"0th": zeroth, "Exif": exif})


def jpeg_metadata(record: dict) -> tuple[bytes, bytes, list[bytes]]:
    """(EXIF, standard XMP, extended XMP segments) for a JPEG, each within one APP1 segment.

    A record too long for one segment (a very long prompt) travels whole as extended XMP, with the
    XMP fields in the standard packet when they fit, else only the note naming the extension. EXIF
    cannot be extended: a UserComment past 64 KiB is left out (the XMP holds the same text)."""
    full = xmp_packet(record)
    exif = exif_bytes(record)
    if len(exif) + len(b"Exif\0\0") > jpeg_xmp.MAX_SEGMENT:
        exif = exif_bytes(record, comment=False)
    if len(full) <= jpeg_xmp.MAX_STANDARD:
        return exif, full, []
    name = jpeg_xmp.guid(full)
    standard = xmp.build(record, extended_guid=name).encode("utf-8")
    if len(standard) > jpeg_xmp.MAX_STANDARD:
        standard = xmp.build(None, extended_guid=name).encode("utf-8")
    return exif, standard, jpeg_xmp.extended_segments(full)


def xmp_packet(record: dict) -> bytes:
    # ASCII JSON: no character in it can be invalid in XML.
    provenance = json.dumps(record, ensure_ascii=True, separators=(",", ":"), sort_keys=True)
    return xmp.build(record, provenance_json=provenance).encode("utf-8")


def _already_embedded(chunks: list[png.Chunk], record: dict) -> bool:
    wanted = {c.keyword: c for c in embed.metadata_chunks(record)}
    have = [c for c in chunks if c.keyword in wanted]
    return {c.keyword: png.decode_text(c) for c in have} == {k: png.decode_text(c) for k, c in wanted.items()}


def already_embedded(src: str | os.PathLike, record: dict) -> bool:
    """Whether the PNG file `src` carries `record`'s metadata chunks as they are."""
    return _already_embedded(png.read_file_chunks(src, str(src)), record)


def export_png_file(src: str | os.PathLike, dst: str | os.PathLike, record: dict, what: str) -> None:
    """A PNG file exported as PNG, streamed: the same bytes as `encode_export(data, record, "png")`,
    without holding the image in memory (an 8192x4096 upscale is ~100 MB).

    Copied as it is when its metadata is already current (its C2PA signature survives), else its
    chunks are rewritten with the record's, image data copied across (`png.rewrite_file`).
    """
    if _already_embedded(png.read_file_chunks(src, what), record):
        shutil.copyfile(src, dst)
    else:
        embed.embed_file(src, dst, record, what=what, fsync=False)  # the caller publishes a whole folder


def image_only_png(png_data: bytes, what: str = "render") -> bytes:
    """`png_data` with only the chunks that make up the image (IMAGE_CHUNKS): no metadata at all."""
    chunks = png.read_chunks(png_data, what)
    return png.SIGNATURE + b"".join(c.encode() for c in chunks if c.type in IMAGE_CHUNKS)


def encode_bare(png_data: bytes, fmt: str) -> bytes:
    """The pixels of `png_data` as `fmt` with no metadata: no text, EXIF, XMP or C2PA (`--strip`)."""
    fmt = fmt.lower().replace("jpg", "jpeg")
    if fmt == "png":
        return image_only_png(png_data)
    return _pillow_encode(png_data, fmt, {})


def _pillow_encode(png_data: bytes, fmt: str, metadata: dict) -> bytes:
    from PIL import Image

    image: Image.Image = Image.open(io.BytesIO(png_data))
    image.info = {}  # Pillow would carry some of a PNG's text (a `comment`) into the new file
    if fmt == "jpeg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    if fmt == "jpeg":
        image.save(out, format="JPEG", quality=JPEG_QUALITY, **metadata)
    else:
        image.save(out, format="WEBP", quality=WEBP_QUALITY, method=4, **metadata)
    return out.getvalue()


def encode_export(png_data: bytes, record: dict, fmt: str, sign_with=None, parent: bool = True,
                  training: dict | None = None) -> bytes:
    """`png_data` (a render's PNG) as `fmt` ("png", "jpeg" or "webp") with all metadata embedded.

    With `sign_with` (a keys.Identity, e.g. `keys.signing_identity(home)`), a JPEG or WebP gets
    Content Credentials of its own: a `c2pa.transcoded` edit with the PNG as parentOf ingredient,
    so the render's manifest chain travels on. A PNG export is the render file itself when its
    metadata is already in place, and so keeps the render's own signature. With `parent=False` the
    signature names no ingredient (a redacted export: the render's manifest holds the full facts);
    a PNG is then signed too. `training` is the training-and-mining choice to sign (default: the
    identity's configured one; trust.signing.training_for binds it by the models' licences).
    """
    fmt = fmt.lower().replace("jpg", "jpeg")
    if fmt not in FORMATS:
        raise BadInput(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "png":
        current = _already_embedded(png.read_chunks(png_data, "render"), record)
        data = png_data if current else embed.embed_png(png_data, record)
        if parent or sign_with is None:
            return data
        from atlas.core.files import credentials

        return credentials.sign(data, record, sign_with, parent=None, fmt=fmt, training=training)
    if fmt == "jpeg":
        exif, packet, extended = jpeg_metadata(record)
        data = _pillow_encode(png_data, fmt, {"exif": exif, "xmp": packet})
        data = jpeg_xmp.insert_after_standard(data, extended) if extended else data
    else:  # WebP's RIFF chunks have no 64 KiB limit
        data = _pillow_encode(png_data, fmt, {"exif": exif_bytes(record), "xmp": xmp_packet(record)})
    if sign_with is None:
        return data
    from atlas.core.files import credentials

    return credentials.sign(data, record, sign_with, parent=png_data if parent else None, fmt=fmt,
                            action="c2pa.transcoded" if parent else None, training=training)
