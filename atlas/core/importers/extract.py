"""The text metadata a PNG, JPEG or WebP file carries, read from its bytes alone.

`extract(data)` gives a flat dict of source key -> text:
- PNG: each tEXt/zTXt/iTXt chunk under its keyword ("parameters", "prompt", "workflow", ...),
  and the eXIf chunk's tags as below;
- JPEG: APP1 EXIF, APP1 XMP ("xmp") and COM segments ("jpeg:COM", then "jpeg:COM:2", ...);
- WebP (still or animated): the RIFF "EXIF" and "XMP " chunks;
- EXIF, wherever found: "exif:UserComment" (Exif IFD, else IFD0), "exif:ImageDescription",
  "exif:Make", "exif:Model", "exif:Software" (IFD0).
`stealth(image)` reads A1111's "stealth" metadata from the low bits of a decoded image's pixels.

Everything here is a function of its arguments: no state survives a call, so one file's values
can never turn up on another's. Malformed metadata raises BadInput with the reason; the decoded
text of one file is bounded by MAX_TEXT.
"""

import struct
import zlib

from atlas.core.errors import BadInput
from atlas.core.files import jpeg_xmp, png

# Decoded text per file. The largest ComfyUI workflows seen are a few MiB; 32 MiB leaves room for
# ten times that while keeping a reader process's peak memory bounded whatever a file claims.
MAX_TEXT = 32 << 20

INFLATE_STEP = 1 << 20

JPEG_SOI = b"\xff\xd8"
EXIF_HEADER = b"Exif\0\0"
XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\0"

IFD0_TAGS = {0x010E: "ImageDescription", 0x010F: "Make", 0x0110: "Model", 0x0131: "Software"}
EXIF_IFD_POINTER = 0x8769
USER_COMMENT = 0x9286
TEXT_TYPES = {1: 1, 2: 1, 7: 1, 129: 1}  # BYTE, ASCII, UNDEFINED and Exif 3.0's UTF-8: one byte per count
LONG = 4

# UserComment starts with an 8-byte character code (Exif 2.3, section 4.6.5, table 9).
CODE_ASCII = b"ASCII\0\0\0"
CODE_UNICODE = b"UNICODE\0"
CODE_JIS = b"JIS\0\0\0\0\0"
CODE_UNDEFINED = b"\0" * 8
CODE_UTF8 = b"UTF-8\0\0\0"  # not in the standard, written by some tools

STEALTH = {b"stealth_pnginfo": ("alpha", False), b"stealth_pngcomp": ("alpha", True),
           b"stealth_rgbinfo": ("rgb", False), b"stealth_rgbcomp": ("rgb", True)}
STEALTH_SIGNATURE_BITS = 15 * 8
STEALTH_LENGTH_BITS = 32
_LSB_DIGITS = bytes(0x30 + (i & 1) for i in range(256))  # sample -> b"0"/b"1" of its low bit


class _Budget:
    """Counts decoded bytes against MAX_TEXT for one file."""

    def __init__(self, what: str):
        self.left, self.what = MAX_TEXT, what

    def take(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise BadInput(f"{self.what}: more than {MAX_TEXT >> 20} MiB of metadata text; refusing it")


def text(raw: bytes | bytearray) -> str:
    """Bytes that should be Latin-1 or ASCII by their format's rules, as text.

    PNG tEXt/zTXt are Latin-1 and EXIF ASCII is 7-bit by the specs, yet A1111, ComfyUI and most
    tools write UTF-8 there. Latin-1 decoding of UTF-8 would garble every non-ASCII prompt, and a
    Latin-1 text that is also valid UTF-8 is practically never seen (it needs byte pairs such as
    "Ã©"), so valid UTF-8 is taken as UTF-8 and anything else as Latin-1, which cannot fail.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def extract(data: bytes, what: str = "file") -> dict[str, str]:
    """The text metadata of a PNG, JPEG or WebP file's bytes (see the module's docstring)."""
    if data.startswith(png.SIGNATURE):
        return png_metadata(png.read_chunks(data, what), what)
    if data.startswith(JPEG_SOI):
        return jpeg_metadata(data, what)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return webp_metadata(data, what)
    raise BadInput(f"{what}: not a PNG, JPEG or WebP file")


def _inflate(payload: bytes, budget: _Budget, where: str, wbits: int = 15) -> bytes:
    """Inflated in 1 MiB steps, each counted: a bomb stops at the budget, never past it."""
    inflater, out = zlib.decompressobj(wbits), bytearray()
    try:
        while payload:
            piece = inflater.decompress(payload, INFLATE_STEP)
            budget.take(len(piece))
            out += piece
            payload = inflater.unconsumed_tail
            if not piece and not payload:
                break
        out += inflater.flush()
    except zlib.error as exc:
        raise BadInput(f"{budget.what}: corrupt compressed data in {where}: {exc}") from None
    return bytes(out)


def png_metadata(chunks: list[png.Chunk], what: str = "file") -> dict[str, str]:
    """keyword -> text of a PNG's text chunks (the last wins when a keyword repeats), plus its eXIf."""
    budget, out = _Budget(what), {}
    for chunk in chunks:
        if chunk.type in png.TEXT_TYPES:
            key, value = _png_text(chunk, budget)
            out[key] = value
        elif chunk.type == b"eXIf":
            out.update(exif_metadata(chunk.data, what, budget))
    return out


def _png_text(chunk: png.Chunk, budget: _Budget) -> tuple[str, str]:
    key, payload, compressed = png.split_text(chunk, budget.what)
    if compressed:
        payload = _inflate(payload, budget, f"{chunk.type.decode()} chunk {key!r}")
    else:
        budget.take(len(payload))
    return key, text(payload)  # iTXt is UTF-8 by the spec; a writer that broke it still gets its text kept


def jpeg_metadata(data: bytes, what: str = "file") -> dict[str, str]:
    """EXIF, XMP and comments of a JPEG: the segments before the image data (SOS)."""
    budget, out, comments = _Budget(what), {}, 0
    pos, seen_exif, extended = 2, False, False
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            raise BadInput(f"{what}: corrupt JPEG: no segment marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata segments follow
            break
        if pos + 4 > len(data):
            raise BadInput(f"{what}: truncated JPEG: segment at byte {pos} has no length")
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise BadInput(f"{what}: corrupt JPEG: segment {marker:#04x} at byte {pos} claims {length} bytes"
                           f"{'' if length < 2 else ', past the end of the file'}")
        body = data[pos + 4:end]
        if marker == 0xE1 and body.startswith(EXIF_HEADER) and not seen_exif:  # the first EXIF is the EXIF
            seen_exif = True
            out.update(exif_metadata(body[len(EXIF_HEADER):], what, budget))
        elif marker == 0xE1 and body.startswith(XMP_HEADER) and "xmp" not in out:
            packet = body[len(XMP_HEADER):]
            budget.take(len(packet))
            out["xmp"] = text(packet)
        elif marker == 0xE1 and body.startswith(jpeg_xmp.EXTENDED_HEADER):
            extended = True
        elif marker == 0xFE:
            comments += 1
            budget.take(len(body))
            out["jpeg:COM" if comments == 1 else f"jpeg:COM:{comments}"] = text(body)
        pos = end
    if extended and "xmp" in out:  # a long record continues in extended XMP (atlas's own long JPEG exports)
        _standard, extended_packet = jpeg_xmp.read(data, what)
        if extended_packet is not None:
            budget.take(len(extended_packet))
            out["xmp"] = text(extended_packet)
    return out


def webp_metadata(data: bytes, what: str = "file") -> dict[str, str]:
    """The EXIF and XMP chunks of a WebP file (still or animated: both sit at the top level)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise BadInput(f"{what}: not a WebP file")
    budget, out = _Budget(what), dict[str, str]()
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = 8 + riff_size
    if end > len(data):
        raise BadInput(f"{what}: truncated WebP: RIFF claims {riff_size} bytes, the file has {len(data) - 8}")
    pos = 12
    while pos + 8 <= end:
        fourcc, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body_end = pos + 8 + size
        if body_end > end:
            raise BadInput(f"{what}: corrupt WebP: chunk {fourcc!r} at byte {pos} claims {size} bytes, "
                           "past the end of the RIFF data")
        body = data[pos + 8:body_end]
        if fourcc == b"EXIF" and not any(k.startswith("exif:") for k in out):
            # The WebP container spec says a bare TIFF header; some writers keep JPEG's "Exif\0\0".
            out.update(exif_metadata(body.removeprefix(EXIF_HEADER), what, budget))
        elif fourcc == b"XMP " and "xmp" not in out:
            budget.take(len(body))
            out["xmp"] = text(body)
        pos = body_end + (size & 1)  # chunks are padded to even sizes
    return out


def exif_metadata(tiff: bytes, what: str = "file", budget: _Budget | None = None) -> dict[str, str]:
    """The text tags of an EXIF block (a TIFF header and IFDs), byte order "II" or "MM"."""
    budget = budget or _Budget(what)
    if len(tiff) < 8:
        raise BadInput(f"{what}: EXIF too short for a TIFF header ({len(tiff)} bytes)")
    order = tiff[:2]
    if order not in (b"II", b"MM"):
        raise BadInput(f"{what}: EXIF with an unknown byte order {order!r} (expected II or MM)")
    endian = "<" if order == b"II" else ">"
    magic, ifd0 = struct.unpack(endian + "HI", tiff[2:8])
    if magic != 42:
        raise BadInput(f"{what}: EXIF with a bad TIFF magic number {magic}")
    zeroth = _ifd(tiff, ifd0, endian, what, "IFD0")
    out = {}
    for tag, name in IFD0_TAGS.items():
        if tag in zeroth:
            value = _value(tiff, zeroth[tag], endian, what, name)
            if value is not None:
                budget.take(len(value))
                out[f"exif:{name}"] = text(value).rstrip("\0")
    comment = None
    pointer = zeroth.get(EXIF_IFD_POINTER)
    if pointer is not None and pointer[0] in (LONG, 13) and pointer[1] == 1:
        exif_ifd = _ifd(tiff, struct.unpack(endian + "I", pointer[2])[0], endian, what, "Exif IFD")
        if USER_COMMENT in exif_ifd:
            comment = _value(tiff, exif_ifd[USER_COMMENT], endian, what, "UserComment")
    if comment is None and USER_COMMENT in zeroth:  # some ComfyUI save nodes put it in IFD0
        comment = _value(tiff, zeroth[USER_COMMENT], endian, what, "UserComment")
    if comment is not None:
        budget.take(len(comment))
        out["exif:UserComment"] = user_comment(comment, order)
    return out


def _ifd(tiff: bytes, offset: int, endian: str, what: str, name: str) -> dict[int, tuple[int, int, bytes]]:
    """tag -> (type, count, the 4 bytes of its value or offset) of the IFD at `offset`."""
    if offset < 8 or offset + 2 > len(tiff):
        raise BadInput(f"{what}: EXIF {name} offset {offset} is outside the EXIF block ({len(tiff)} bytes)")
    (count,) = struct.unpack(endian + "H", tiff[offset:offset + 2])
    if offset + 2 + 12 * count > len(tiff):
        raise BadInput(f"{what}: EXIF {name} claims {count} entries, past the end of the EXIF block")
    entries: dict[int, tuple[int, int, bytes]] = {}
    for i in range(count):
        start = offset + 2 + 12 * i
        tag, kind, n = struct.unpack(endian + "HHI", tiff[start:start + 8])
        entries.setdefault(tag, (kind, n, tiff[start + 8:start + 12]))
    return entries


def _value(tiff: bytes, entry: tuple[int, int, bytes], endian: str, what: str, name: str) -> bytes | None:
    """The bytes of a text-like tag's value; None for a tag of another type."""
    kind, count, field = entry
    if kind not in TEXT_TYPES:
        return None
    if count <= 4:
        return field[:count]
    (offset,) = struct.unpack(endian + "I", field)
    if offset + count > len(tiff):
        raise BadInput(f"{what}: EXIF {name} claims {count} bytes at offset {offset}, past the end of the "
                       f"EXIF block ({len(tiff)} bytes)")
    return tiff[offset:offset + count]


def user_comment(value: bytes, byte_order: bytes = b"MM") -> str:
    """An EXIF UserComment as text; `byte_order` is the EXIF block's TIFF header ("II" or "MM").

    UNICODE is UTF-16 whose byte order the standard leaves to the TIFF header, but writers differ
    (piexif writes big-endian whatever the header says), so a byte-order mark decides first, then
    the zero bytes: text that is mostly ASCII has its zero bytes on one side of each code unit.
    Only when neither tells (CJK text, say) is the header's order taken. ASCII, undefined and
    unprefixed values are UTF-8 when valid (as Civitai and ComfyUI nodes write them), else Latin-1.
    """
    code, body = value[:8], value[8:]
    if code == CODE_UNICODE:
        decoded = _utf16(body, byte_order)
    elif code == CODE_JIS:
        decoded = body.decode("iso2022_jp", errors="replace")
    elif code in (CODE_ASCII, CODE_UNDEFINED, CODE_UTF8):
        decoded = text(body)
    else:
        decoded = text(value)  # no character code at all: the text is the whole value
    return decoded.rstrip("\0")


def _utf16(body: bytes, byte_order: bytes) -> str:
    if body[:2] == b"\xff\xfe":
        return body[2:].decode("utf-16-le", errors="replace")
    if body[:2] == b"\xfe\xff":
        return body[2:].decode("utf-16-be", errors="replace")
    units = len(body) // 2
    high_zero = body[0:2 * units:2].count(0)  # zero first bytes: big-endian
    low_zero = body[1:2 * units:2].count(0)
    if high_zero > 2 * low_zero and high_zero * 4 >= units:
        encoding = "utf-16-be"
    elif low_zero > 2 * high_zero and low_zero * 4 >= units:
        encoding = "utf-16-le"
    else:
        encoding = "utf-16-le" if byte_order == b"II" else "utf-16-be"
    return body[:2 * units].decode(encoding, errors="replace")


def stealth(image, what: str = "file") -> dict[str, str]:
    """A1111's "stealth" metadata in a decoded image: {"stealth:parameters": text}, or {} when none.

    The writer stores a 15-byte signature, a 32-bit big-endian bit count and the (optionally
    gzipped) UTF-8 text in the lowest bit of each alpha value ("png" signatures) or of each R, G
    and B value ("rgb" ones), walking the image column by column, top to bottom.
    """
    if image.mode not in ("RGBA", "RGB"):
        return {}
    sources = (["alpha"] if image.mode == "RGBA" else []) + ["rgb"]
    for source in sources:
        band = image.getchannel("A") if source == "alpha" else image
        per_pixel = 1 if source == "alpha" else 3
        head = _lsb_bytes(band, per_pixel, 0, STEALTH_SIGNATURE_BITS + STEALTH_LENGTH_BITS)
        if head is None:
            continue
        found = STEALTH.get(head[:15])
        if found is None or found[0] != source:
            continue
        bits = int.from_bytes(head[15:19], "big")
        capacity = image.width * image.height * per_pixel - STEALTH_SIGNATURE_BITS - STEALTH_LENGTH_BITS
        if bits > capacity or bits // 8 > MAX_TEXT:
            raise BadInput(f"{what}: stealth metadata claims {bits} bits, more than the image holds")
        payload = _lsb_bytes(band, per_pixel, STEALTH_SIGNATURE_BITS + STEALTH_LENGTH_BITS, bits // 8 * 8) or b""
        if found[1]:
            payload = _inflate(payload, _Budget(what), "stealth metadata", wbits=16 + 15)  # gzip
        return {"stealth:parameters": text(payload)}
    return {}


def _lsb_bytes(band, per_pixel: int, skip_bits: int, bits: int) -> bytes | None:
    """`bits` low bits of the samples of `band`, column by column, after `skip_bits`; packed into bytes."""
    from PIL import Image

    height = band.height
    need = skip_bits + bits
    if need > band.width * height * per_pixel:
        return None
    columns = -(-need // (height * per_pixel))  # only the columns that hold the bits are read
    part = band.crop((0, 0, columns, height))
    if part.mode == "RGBA":  # the RGB bits of an image with alpha
        part = part.convert("RGB")
    samples = part.transpose(Image.Transpose.TRANSPOSE).tobytes()
    digits = samples[skip_bits:need].translate(_LSB_DIGITS)
    if not digits:
        return b""
    return int(digits, 2).to_bytes(bits // 8, "big")
