"""atlas's own metadata extraction: files built here from the PNG, JPEG/EXIF, TIFF and WebP specs."""

import io
import random
import struct
import zlib

import piexif
import piexif.helper
import pytest
from PIL import Image

from atlas.core.errors import BadInput
from atlas.core.files import png
from atlas.core.importers import extract
from tests.support import FIXTURES
from tests.support.import_files import stealth_image

JAPANESE = "桜の木の下の猫、夕焼け\nNegative prompt: ぼやけ\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5"


# --- builders, from the formats' documentation ---------------------------------------------------

def png_bytes(chunks=(), mode="RGB", size=(8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 20, 30, 255)[: len(mode)] if mode != "L" else 7).save(out, "PNG")
    return png.with_text(out.getvalue(), list(chunks))


def tiff(order: bytes, ifd0=(), exif_ifd=()) -> bytes:
    """A TIFF block: header, IFD0 (with an Exif IFD pointer when `exif_ifd`), the Exif IFD, then values.

    Entries are (tag, type, value bytes); values over 4 bytes go after the IFDs, by offset.
    """
    e = "<" if order == b"II" else ">"
    ifd0 = list(ifd0)
    n0, n1 = len(ifd0) + (1 if exif_ifd else 0), len(exif_ifd)
    ifd0_at = 8
    exif_at = ifd0_at + 2 + 12 * n0 + 4
    data_at = exif_at + (2 + 12 * n1 + 4 if exif_ifd else 0)
    tail = bytearray()

    def entries(items):
        out = b""
        for tag, kind, value in items:
            count = len(value) // {3: 2, 4: 4}.get(kind, 1)
            if len(value) <= 4:
                field = value.ljust(4, b"\0")
            else:
                field = struct.pack(e + "I", data_at + len(tail))
                tail.extend(value + (b"\0" if len(value) % 2 else b""))
            out += struct.pack(e + "HHI", tag, kind, count) + field
        return out

    if exif_ifd:
        ifd0 = sorted(ifd0 + [(0x8769, 4, struct.pack(e + "I", exif_at))])
    block0 = struct.pack(e + "H", n0) + entries(ifd0) + b"\0\0\0\0"
    block1 = struct.pack(e + "H", n1) + entries(exif_ifd) + b"\0\0\0\0" if exif_ifd else b""
    return order + struct.pack(e + "HI", 42, ifd0_at) + block0 + block1 + bytes(tail)


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def jpeg_bytes(*segments: bytes, size=(16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, "JPEG", quality=80)
    data = out.getvalue()
    return data[:2] + b"".join(segments) + data[2:]


def riff_chunk(fourcc: bytes, body: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def webp_bytes(*chunks: bytes, animated=False) -> bytes:
    """A WebP from Pillow with extra top-level chunks appended (the RIFF size fixed)."""
    out = io.BytesIO()
    frames = [Image.new("RGBA", (8, 8), (i * 60, 0, 0, 255)) for i in range(3 if animated else 1)]
    frames[0].save(out, "WEBP", save_all=animated, append_images=frames[1:], lossless=True)
    data = out.getvalue() + b"".join(chunks)
    return data[:4] + struct.pack("<I", len(data) - 8) + data[8:]


def unicode_comment(text: str, encoding: str) -> bytes:
    return b"UNICODE\0" + text.encode(encoding)


# --- PNG text ----------------------------------------------------------------------------------

def test_png_text_chunks_decode_utf8_first_then_latin1():
    data = png_bytes([png.Chunk(b"tEXt", b"parameters\0" + JAPANESE.encode("utf-8")),  # what A1111 writes
                      png.Chunk(b"tEXt", b"Comment\0caf\xe9"),  # Latin-1, as the spec says
                      png.Chunk(b"zTXt", b"prompt\0\0" + zlib.compress('{"3": "猫"}'.encode())),
                      png.Chunk(b"iTXt", b"workflow\0\1\0en\0\0" + zlib.compress("ワーク".encode()))])
    found = extract.extract(data)
    assert found == {"parameters": JAPANESE, "Comment": "café", "prompt": '{"3": "猫"}', "workflow": "ワーク"}


def test_png_exif_chunk_and_last_repeated_keyword_wins():
    exif = tiff(b"II", ifd0=[(0x010E, 2, b"Workflow: {}\0")],
                exif_ifd=[(0x9286, 7, unicode_comment("caption", "utf-16-le"))])
    data = png_bytes([png.Chunk(b"tEXt", b"k\0first"), png.Chunk(b"tEXt", b"k\0second"), png.Chunk(b"eXIf", exif)])
    assert extract.extract(data) == {"k": "second", "exif:ImageDescription": "Workflow: {}",
                                     "exif:UserComment": "caption"}


def test_png_text_faults_are_named():
    for body, reason in [(b"nokeyword", "without a keyword separator"), (b"k\0\x05zz", "unknown compression"),
                         (b"k\0\0not zlib", "corrupt compressed data")]:
        kind = b"zTXt" if b"\0" in body else b"tEXt"
        with pytest.raises(BadInput, match=reason):
            extract.extract(png_bytes([png.Chunk(kind, body)]), "f.png")
    with pytest.raises(BadInput, match="truncated iTXt"):
        extract.extract(png_bytes([png.Chunk(b"iTXt", b"k\0\0\0en")]))


def test_decoded_text_is_bounded(monkeypatch):
    monkeypatch.setattr(extract, "MAX_TEXT", 1 << 20)
    bomb = png.Chunk(b"zTXt", b"k\0\0" + zlib.compress(b"a" * (4 << 20), 9))  # 4 KiB that inflate to 4 MiB
    with pytest.raises(BadInput, match="more than 1 MiB of metadata text"):
        extract.extract(png_bytes([bomb]))
    many = [png.Chunk(b"tEXt", f"k{i}".encode() + b"\0" + b"b" * (300 << 10)) for i in range(4)]
    with pytest.raises(BadInput, match="more than 1 MiB"):
        extract.extract(png_bytes(many))
    assert len(extract.extract(png_bytes(many[:3]))) == 3


# --- EXIF ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("order", [b"II", b"MM"])
def test_exif_in_both_byte_orders(order):
    e = "<" if order == b"II" else ">"
    block = tiff(order, ifd0=[(0x010E, 2, b"Workflow: {\"1\": 2}\0"), (0x010F, 2, b"Prompt: {}\0"),
                              (0x0110, 2, b"ab\0"), (0x0112, 3, struct.pack(e + "H", 1))],
                 exif_ifd=[(0x9286, 7, unicode_comment(JAPANESE, f"utf-16-{'le' if order == b'II' else 'be'}"))])
    assert extract.exif_metadata(block) == {"exif:ImageDescription": 'Workflow: {"1": 2}', "exif:Make": "Prompt: {}",
                                            "exif:Model": "ab", "exif:UserComment": JAPANESE}


@pytest.mark.parametrize(("value", "order", "expected"), [
    (unicode_comment("a ship\n", "utf-16-le"), b"II", "a ship\n"),
    (unicode_comment("a ship\n", "utf-16-be"), b"MM", "a ship\n"),
    (unicode_comment("a ship", "utf-16-be"), b"II", "a ship"),  # piexif's big-endian text under Pillow's II
    (unicode_comment("a ship", "utf-16-le"), b"MM", "a ship"),
    (unicode_comment("桜の猫", "utf-16-le"), b"II", "桜の猫"),  # no zero bytes to tell: the header decides
    (unicode_comment("桜の猫", "utf-16-be"), b"MM", "桜の猫"),
    (b"UNICODE\0\xff\xfe" + "桜の猫".encode("utf-16-le"), b"MM", "桜の猫"),  # a BOM beats the header
    (b"UNICODE\0\xfe\xff" + "桜の猫".encode("utf-16-be"), b"II", "桜の猫"),
    (b"ASCII\0\0\0steps 5\0", b"II", "steps 5"),
    (b"ASCII\0\0\0" + '{"prompt": "猫"}'.encode(), b"MM", '{"prompt": "猫"}'),  # UTF-8 behind ASCII (Civitai)
    (b"UTF-8\0\0\0" + "猫".encode(), b"II", "猫"),
    (b"\0" * 8 + b"undefined code", b"II", "undefined code"),
    (b'{"resource": 1}', b"II", '{"resource": 1}'),  # no character code at all
    (b"ASCII\0\0\0caf\xe9", b"II", "café"),
])
def test_user_comment_forms(value, order, expected):
    assert extract.user_comment(value, order) == expected


def test_user_comment_agrees_with_piexif_on_what_a1111_writes():
    for text in ["photo of a duck", JAPANESE, "emoji 🌊 and\ttabs\n\n"]:
        for encoding in ("unicode", "ascii" if text.isascii() else "unicode"):
            block = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(text, encoding)}})
            assert extract.exif_metadata(block[6:])["exif:UserComment"] == text  # piexif.dump prefixes "Exif\0\0"


def test_user_comment_in_ifd0_and_the_exif_ifd_first():
    both = tiff(b"II", ifd0=[(0x9286, 2, b"from IFD0\0")], exif_ifd=[(0x9286, 7, b"ASCII\0\0\0from Exif IFD")])
    assert extract.exif_metadata(both)["exif:UserComment"] == "from Exif IFD"
    only0 = tiff(b"MM", ifd0=[(0x9286, 2, b"Prompt: graph\0")])
    assert extract.exif_metadata(only0) == {"exif:UserComment": "Prompt: graph"}


@pytest.mark.parametrize(("block", "reason"), [
    (b"II*\0", "too short"),
    (b"XX*\0\x08\0\0\0\0\0", "unknown byte order"),
    (b"II+\0\x08\0\0\0\0\0", "bad TIFF magic"),
    (b"II*\0\xff\xff\0\0\0\0", "outside the EXIF block"),
    (b"II*\0\x08\0\0\0\xff\xff", "claims 65535 entries"),
    (b"MM\0*\0\0\0\x08\0\x01\x01\x0e\0\x02\x7f\xff\xff\xff\0\0\0\x1a", "claims 2147483647 bytes"),
])
def test_broken_exif_gives_reasons(block, reason):
    with pytest.raises(BadInput, match=reason):
        extract.exif_metadata(block, "f.jpg")


# --- JPEG and WebP -------------------------------------------------------------------------------

def test_jpeg_exif_xmp_and_comments():
    xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/">猫</x:xmpmeta>'
    data = jpeg_bytes(segment(0xE1, b"Exif\0\0" + tiff(b"II", ifd0=[(0x010F, 2, b"Canon\0")],
                                                       exif_ifd=[(0x9286, 7, unicode_comment("hi", "utf-16-le"))])),
                      segment(0xE1, extract.XMP_HEADER + xmp.encode()),
                      segment(0xFE, b"first comment"), segment(0xFE, "zweiter Kommentar: ü".encode()))
    assert extract.extract(data) == {"exif:Make": "Canon", "exif:UserComment": "hi", "xmp": xmp,
                                     "jpeg:COM": "first comment", "jpeg:COM:2": "zweiter Kommentar: ü"}
    assert Image.open(io.BytesIO(data)).getexif()[0x010F] == "Canon"  # Pillow reads the same file


def test_jpeg_as_pillow_and_piexif_write_it():
    exif = piexif.dump({"0th": {piexif.ImageIFD.ImageDescription: b"desc"},
                        "Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump(JAPANESE, "unicode")}})
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "JPEG", exif=exif, comment=b"made here")
    assert extract.extract(out.getvalue()) == {"exif:ImageDescription": "desc", "exif:UserComment": JAPANESE,
                                               "jpeg:COM": "made here"}
    plain = io.BytesIO()
    Image.new("RGB", (8, 8)).save(plain, "JPEG")
    assert extract.extract(plain.getvalue()) == {}


def test_jpeg_segment_faults():
    good = jpeg_bytes(segment(0xFE, b"note"))
    with pytest.raises(BadInput, match="past the end"):
        extract.extract(good[:2] + b"\xff\xfe\x40\x00ab")
    with pytest.raises(BadInput, match="claims 1 bytes"):
        extract.extract(b"\xff\xd8\xff\xe1\x00\x01")
    with pytest.raises(BadInput, match="no segment marker"):
        extract.extract(b"\xff\xd8garbage")
    assert extract.extract(b"\xff\xd8") == {}  # nothing there, nothing found


@pytest.mark.parametrize("animated", [False, True])
def test_webp_exif_and_xmp_chunks(animated):
    exif = tiff(b"MM", ifd0=[(0x0110, 2, b'{"prompt": 1}\0')], exif_ifd=[(0x9286, 7, b"ASCII\0\0\0Steps: 5")])
    data = webp_bytes(riff_chunk(b"EXIF", exif), riff_chunk(b"XMP ", b"<x:xmpmeta/>"), animated=animated)
    assert Image.open(io.BytesIO(data)).n_frames == (3 if animated else 1)
    assert extract.extract(data) == {"exif:Model": '{"prompt": 1}', "exif:UserComment": "Steps: 5",
                                     "xmp": "<x:xmpmeta/>"}
    prefixed = webp_bytes(riff_chunk(b"EXIF", b"Exif\0\0" + exif), animated=animated)  # as some writers do
    assert extract.extract(prefixed)["exif:UserComment"] == "Steps: 5"


def test_webp_as_pillow_writes_it_and_its_faults():
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: piexif.helper.UserComment.dump("a cat", "unicode")}})
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "WEBP", exif=exif, xmp=b"<x/>")
    assert extract.extract(out.getvalue()) == {"exif:UserComment": "a cat", "xmp": "<x/>"}
    data = out.getvalue()
    with pytest.raises(BadInput, match="truncated WebP"):
        extract.extract(data[:-4])
    with pytest.raises(BadInput, match="past the end of the RIFF data"):
        extract.extract(webp_bytes(b"EXIF" + struct.pack("<I", 1 << 30)))


# --- stealth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("signature", "mode"), [(b"stealth_pnginfo", "RGBA"), (b"stealth_pngcomp", "RGBA"),
                                                 (b"stealth_rgbinfo", "RGB"), (b"stealth_rgbcomp", "RGBA")])
def test_stealth_metadata(signature, mode):
    image = stealth_image(JAPANESE, signature, mode)
    assert extract.stealth(image) == {"stealth:parameters": JAPANESE}
    assert extract.stealth(Image.new(mode, (40, 30))) == {}


def test_stealth_fixture_and_bounds():
    with Image.open(FIXTURES / "parsers/AUTOMATIC1111/automatic1111_stealth.png") as image:
        image.load()
        assert extract.stealth(image)["stealth:parameters"].startswith("a circle\nNegative prompt: a square")
    liar = stealth_image("x", b"stealth_pnginfo", size=(20, 20))
    pixels = liar.load()
    for y in range(8):  # overwrite the bit count's high byte: 2^31 bits, far more than 400 pixels hold
        x, yy = divmod(120 + y, 20)
        r, g, b, a = pixels[x, yy]
        pixels[x, yy] = (r, g, b, (a & ~1) | (1 if y == 0 else 0))
    with pytest.raises(BadInput, match="more than the image holds"):
        extract.stealth(liar)
    assert extract.stealth(Image.new("RGBA", (3, 3))) == {}  # too small to hold a signature


# --- fuzz ----------------------------------------------------------------------------------------

def seeds() -> list[bytes]:
    exif_ii = tiff(b"II", ifd0=[(0x010E, 2, b"Workflow: {}\0"), (0x010F, 2, b"Make\0")],
                   exif_ifd=[(0x9286, 7, unicode_comment("prompt text here", "utf-16-le"))])
    exif_mm = tiff(b"MM", ifd0=[(0x9286, 2, b"Prompt: {}\0")], exif_ifd=[(0x9286, 7, b"ASCII\0\0\0abc")])
    return [
        png_bytes([png.Chunk(b"tEXt", b"parameters\0" + JAPANESE.encode()),
                   png.Chunk(b"zTXt", b"prompt\0\0" + zlib.compress(b'{"1": 2}')),
                   png.Chunk(b"iTXt", b"workflow\0\0\0\0\0{}"), png.Chunk(b"eXIf", exif_mm)]),
        jpeg_bytes(segment(0xE1, b"Exif\0\0" + exif_ii), segment(0xE1, extract.XMP_HEADER + b"<x/>"),
                   segment(0xFE, b"comment")),
        webp_bytes(riff_chunk(b"EXIF", exif_mm), riff_chunk(b"XMP ", b"<x/>"), animated=True),
        (FIXTURES / "parsers/AUTOMATIC1111/automatic1111_cropped.jpg").read_bytes()[:4096],
    ]


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(5)
        pos = rng.randrange(len(out)) if out else 0
        if kind == 0 and out:
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[pos:pos + 4] = rng.choice([b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\0\0\0\0", b"\xff\xff"])
        elif kind == 2:
            del out[pos:]
        elif kind == 3:
            out[pos:pos] = out[rng.randrange(len(out) or 1):][: rng.randint(1, 64)]
        else:
            out[pos:pos + 2] = struct.pack(">H", rng.choice([0, 1, 2, 0xFFFF, rng.randrange(1 << 16)]))
    return bytes(out)


def fix_png_crcs(data: bytes) -> bytes:
    """Mutated PNG chunks with their CRCs made right again, so the fuzz reaches the text decoding."""
    if not data.startswith(png.SIGNATURE):
        return data
    out, pos = bytearray(data[:8]), 8
    while pos + 12 <= len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        if pos + 12 + length > len(data):
            break
        body = data[pos + 8:pos + 8 + length]
        out += data[pos:pos + 8] + body + struct.pack(">I", zlib.crc32(data[pos + 4:pos + 8] + body) & 0xFFFFFFFF)
        pos += 12 + length
    return bytes(out + data[pos:])


def check(call, data):
    try:
        found = call(data)
    except BadInput as exc:
        assert str(exc).strip()
        return "reason"
    assert isinstance(found, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in found.items())
    return "value"


def test_fuzz_gives_a_value_or_a_reason():
    """6,000 damaged inputs: mutated files (PNG CRCs repaired) and mutated bare EXIF blocks."""
    rng = random.Random(12)
    corpus = seeds()
    exif_blocks = [tiff(b"II", ifd0=[(0x010E, 2, b"description text\0")],
                        exif_ifd=[(0x9286, 7, unicode_comment("comment", "utf-16-le"))]),
                   piexif.dump({"0th": {piexif.ImageIFD.Make: b"maker"},
                                "Exif": {piexif.ExifIFD.UserComment: b"ASCII\0\0\0text"}})[6:]]
    outcomes = {"value": 0, "reason": 0}
    for i in range(4000):
        outcomes[check(extract.extract, fix_png_crcs(mutate(rng, corpus[i % len(corpus)])))] += 1
    for i in range(2000):
        outcomes[check(extract.exif_metadata, mutate(rng, exif_blocks[i % 2]))] += 1
    assert outcomes["value"] > 500 and outcomes["reason"] > 500, outcomes  # both paths were exercised


def test_huge_claims_cost_no_memory():
    import tracemalloc

    bomb = png_bytes([png.Chunk(b"zTXt", b"k\0\0" + zlib.compress(bytes(extract.MAX_TEXT + (1 << 20)), 1))])
    tracemalloc.start()
    try:
        for data in [b"\xff\xd8" + b"\xff\xfe\xff\xff" + b"x" * 100,
                     b"RIFF\xff\xff\xff\x7fWEBPEXIF\xff\xff\xff\x7f",
                     b"II*\0\x08\0\0\0\xff\xff" + b"\0" * 64, bomb]:
            with pytest.raises(BadInput):
                (extract.exif_metadata if data.startswith(b"II") else extract.extract)(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < extract.MAX_TEXT + (8 << 20), peak  # the bomb stops at the budget, nothing else allocates


def test_the_module_keeps_no_state():
    """Nothing at module level may change between calls: no caches, no last-file memory."""
    before = {k: v for k, v in vars(extract).items() if not k.startswith("__")}
    extract.extract(seeds()[1])
    extract.stealth(stealth_image("x", b"stealth_pnginfo"))
    after = {k: v for k, v in vars(extract).items() if not k.startswith("__")}
    assert after.keys() == before.keys() and all(after[k] is before[k] for k in before)
    mutable = [k for k, v in before.items() if isinstance(v, (dict, list, set, bytearray)) and k != "STEALTH"
               and k not in ("IFD0_TAGS", "TEXT_TYPES")]
    assert mutable == []
