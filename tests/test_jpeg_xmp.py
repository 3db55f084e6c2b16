"""JPEG exports of records past one APP1 segment (64 KiB): extended XMP, read back by exiftool and atlas."""

import copy
import hashlib
import io
import json
import struct

from PIL import Image

from atlas.core.files import jpeg_xmp
from atlas.core.files.encode import encode_export
from atlas.core.files.inspect import inspect_file
from tests.support.exiftool import exiftool
from tests.support.pngs import small_png

LONG_PROMPT = "a lighthouse, " * 7200  # ~100,000 characters: the record is ~200 KB of JSON


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) of every segment before the scan, read by hand from the JPEG layout."""
    out, pos = [], 2
    while data[pos + 1] not in (0xDA, 0xD9):
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        out.append((data[pos + 1], data[pos + 4:pos + 2 + length]))
        pos += 2 + length
    return out


def long_record(record: dict) -> dict:
    record = copy.deepcopy(record)
    record["lineage"][-1]["prompt"] = LONG_PROMPT
    return record


def test_a_100k_prompt_exports_to_jpeg_whole(rendered, tmp_path):
    data, record = rendered
    record = long_record(record)
    path = tmp_path / "long.jpg"
    path.write_bytes(encode_export(data, record, "jpeg"))
    segments = _segments(path.read_bytes())
    assert all(len(body) + 2 <= 0xFFFF for _marker, body in segments)
    extensions = [body for marker, body in segments if marker == 0xE1 and body.startswith(jpeg_xmp.EXTENDED_HEADER)]
    assert len(extensions) >= 3  # ~200 KB in portions of at most 65,400 bytes
    # Independent readers: exiftool merges the extension and finds the whole record; Pillow decodes the pixels.
    found = exiftool(path, "-b")
    assert json.loads(found["XMP-atlas:Provenance"])["lineage"][-1]["prompt"] == LONG_PROMPT
    assert found["XMP-xmpNote:HasExtendedXMP"] == hashlib.md5(b"".join(
        body[len(jpeg_xmp.EXTENDED_HEADER) + 40:] for body in extensions)).hexdigest().upper()
    assert "Warning" not in found
    with Image.open(path) as image:
        image.load()
        assert image.size == (64, 64)
    facts = inspect_file(path)
    assert facts["problems"] == []
    assert facts["record"]["lineage"][-1]["prompt"] == LONG_PROMPT


def test_a_record_that_fits_stays_in_one_segment(rendered, tmp_path):
    data, record = rendered
    out = encode_export(data, record, "jpeg")
    assert not any(body.startswith(jpeg_xmp.EXTENDED_HEADER) for _m, body in _segments(out))


def _by_the_spec(standard_extra: bytes, packet: bytes, portion: int, drop: int | None = None) -> bytes:
    """A JPEG carrying `packet` as extended XMP, laid out by hand from XMP part 3, section 1.1.3.1."""
    guid = hashlib.md5(packet).hexdigest().upper().encode()
    standard = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                b'<rdf:Description rdf:about="" xmlns:xmpNote="http://ns.adobe.com/xmp/note/" '
                b'xmpNote:HasExtendedXMP="' + guid + b'"/></rdf:RDF></x:xmpmeta>' + standard_extra)
    pieces = [b"http://ns.adobe.com/xap/1.0/\0" + standard]
    for index, offset in enumerate(range(0, len(packet), portion)):
        if index != drop:
            pieces.append(b"http://ns.adobe.com/xmp/extension/\0" + guid + struct.pack(">II", len(packet), offset)
                          + packet[offset:offset + portion])
    out = io.BytesIO()
    Image.open(io.BytesIO(small_png(8, 8))).convert("RGB").save(out, "JPEG")
    jpeg = out.getvalue()
    app1 = b"".join(b"\xff\xe1" + struct.pack(">H", len(p) + 2) + p for p in pieces)
    return jpeg[:2] + app1 + jpeg[2:]


def test_reads_extended_xmp_laid_out_by_the_spec():
    packet = b"<x:xmpmeta>" + b"y" * 150_000 + b"</x:xmpmeta>"
    standard, extended = jpeg_xmp.read(_by_the_spec(b"", packet, 40_000))
    assert b"HasExtendedXMP" in standard and extended == packet


def test_a_partial_or_foreign_extension_is_ignored():
    packet = b"<x:xmpmeta>" + b"y" * 150_000 + b"</x:xmpmeta>"
    standard, extended = jpeg_xmp.read(_by_the_spec(b"", packet, 40_000, drop=1))
    assert standard is not None and extended is None


def test_import_reads_the_whole_long_record(rendered, tmp_path, cli):
    data, record = rendered
    record = long_record(record)
    path = tmp_path / "long.jpg"
    path.write_bytes(encode_export(data, record, "jpeg"))
    assert cli("import", path).code == 0
    shown = cli("show", "--json", "2").json()  # render 1 is the txt2img the fixture made
    assert LONG_PROMPT.strip() in json.dumps(shown)
