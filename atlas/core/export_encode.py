"""Fallback for `atlas.core.metadata.exports.encode_export` (issue 3) until that module lands.

Same name and contract: the PNG bytes of a render and its record in, the file in `fmt` out, with
the record embedded. PNG keeps its pixels (only the text chunks change); JPEG and WebP are encoded
by Pillow and carry the A1111 `parameters` text in EXIF UserComment (where A1111 puts it) and the
full atlas record in an XMP packet.
"""

import io
from xml.sax.saxutils import escape

from PIL import Image

from atlas.core.errors import AtlasError, BadInput
from atlas.core.metadata import infotext
from atlas.core.metadata.embed import a1111_params, embed_png, record_json

FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
JPEG_SEGMENT_LIMIT = 65_000  # an APP1 segment holds at most 65,533 bytes


def _exif(parameters: str) -> bytes:
    import piexif
    import piexif.helper

    comment = piexif.helper.UserComment.dump(parameters, encoding="unicode")
    return piexif.dump({"0th": {}, "Exif": {piexif.ExifIFD.UserComment: comment}, "GPS": {}, "1st": {}})


def _xmp(record: dict, parameters: str) -> bytes:
    body = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:atlas="https://atlas.invalid/ns/1.0/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<atlas:provenance>{escape(record_json(record))}</atlas:provenance>"
        f"<atlas:parameters>{escape(parameters)}</atlas:parameters>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>")
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>' + body + '<?xpacket end="w"?>').encode()


def encode_export(png_data: bytes, record: dict, fmt: str) -> bytes:
    """`png_data` as a `fmt` file ("png", "jpeg" or "webp") with `record` embedded."""
    kind = FORMATS.get(str(fmt).lower())
    if kind is None:
        raise BadInput(f"unknown export format {fmt!r}; use png, jpeg or webp")
    if kind == "png":
        return embed_png(png_data, record)
    prompt, negative, params = a1111_params(record)
    parameters = infotext.write(prompt, negative, params)
    exif, xmp = _exif(parameters), _xmp(record, parameters)
    if kind == "jpeg" and (len(xmp) > JPEG_SEGMENT_LIMIT or len(exif) > JPEG_SEGMENT_LIMIT):
        raise AtlasError(f"the record ({len(xmp)} bytes of XMP) does not fit a JPEG metadata segment; "
                         "export as png or webp")
    with Image.open(io.BytesIO(png_data)) as image:
        image.load()
        keep_alpha = kind == "webp" and "A" in image.getbands()
        image = image.convert("RGBA" if keep_alpha else "RGB")
    out = io.BytesIO()
    if kind == "jpeg":
        image.save(out, format="JPEG", quality=95, exif=exif, xmp=xmp)
    else:
        image.save(out, format="WEBP", lossless=True, exif=exif, xmp=xmp)
    return out.getvalue()
