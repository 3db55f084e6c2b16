"""XMP in JPEG past one segment's 64 KiB: the "extended XMP" of the XMP specification, part 3.

A JPEG APP1 segment holds at most 65,533 bytes, so a standard XMP packet holds at most 65,504.
A longer packet (a provenance record with a 100,000-character prompt) is written whole as the
*extended* XMP, cut into APP1 portions that each carry the extension header, the packet's GUID
(the MD5 of the whole packet, 32 upper-case hex digits), its full length and the portion's offset;
the standard packet then names that GUID in `xmpNote:HasExtendedXMP`. exiftool and Adobe's
readers merge the two; `read` below does the same for atlas.
"""

import hashlib
import struct

from atlas.core.errors import BadInput

STANDARD_HEADER = b"http://ns.adobe.com/xap/1.0/\0"
EXTENDED_HEADER = b"http://ns.adobe.com/xmp/extension/\0"
MAX_SEGMENT = 65533  # an APP1 body: 65,535 less the 2 bytes of its length field
MAX_STANDARD = MAX_SEGMENT - len(STANDARD_HEADER)
PORTION = 65400  # extended bytes per segment, as Adobe writes them (fits with the 75-byte header)
MAX_EXTENDED = 64 << 20  # an extended packet atlas assembles when reading (a hostile file may claim 4 GiB)


def guid(packet: bytes) -> str:
    return hashlib.md5(packet).hexdigest().upper()  # the spec's choice of digest, not a security check


def extended_segments(packet: bytes) -> list[bytes]:
    """The APP1 bodies carrying `packet` as extended XMP."""
    name = guid(packet).encode("ascii")
    return [EXTENDED_HEADER + name + struct.pack(">II", len(packet), offset) + packet[offset:offset + PORTION]
            for offset in range(0, len(packet), PORTION)]


def _segments(data: bytes):
    """(marker, body start, body end) of each JPEG segment before the image data."""
    pos = 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker in (0xD9, 0xDA):
            return
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if length < 2 or pos + 2 + length > len(data):
            return
        yield marker, pos + 4, pos + 2 + length
        pos += 2 + length


def insert_after_standard(data: bytes, bodies: list[bytes]) -> bytes:
    """The JPEG `data` with APP1 segments `bodies` added right after its standard XMP segment."""
    for marker, start, end in _segments(data):
        if marker == 0xE1 and data[start:end].startswith(STANDARD_HEADER):
            extra = b"".join(b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body for body in bodies)
            return data[:end] + extra + data[end:]
    raise BadInput("JPEG without a standard XMP segment to extend")


def read(data: bytes, what: str = "file") -> tuple[bytes | None, bytes | None]:
    """(standard packet, extended packet) of a JPEG; the extended one only when whole and matching
    the GUID the standard packet names (a stray or partial extension is ignored, as the spec says)."""
    standard: bytes | None = None
    portions: dict[bytes, dict[int, bytes]] = {}
    lengths: dict[bytes, int] = {}
    for marker, start, end in _segments(data):
        if marker != 0xE1:
            continue
        body = data[start:end]
        if body.startswith(STANDARD_HEADER) and standard is None:
            standard = body[len(STANDARD_HEADER):]
        elif body.startswith(EXTENDED_HEADER) and len(body) >= len(EXTENDED_HEADER) + 40:
            head = len(EXTENDED_HEADER)
            name = body[head:head + 32]
            full, offset = struct.unpack(">II", body[head + 32:head + 40])
            if full > MAX_EXTENDED:
                raise BadInput(f"{what}: extended XMP claims {full} bytes, more than {MAX_EXTENDED}")
            lengths.setdefault(name, full)
            portions.setdefault(name, {})[offset] = body[head + 40:]
    if standard is None:
        return None, None
    note = _note(standard)
    if note is None or note not in portions:
        return standard, None
    packet = b"".join(piece for _offset, piece in sorted(portions[note].items()))
    if len(packet) != lengths[note] or guid(packet).encode("ascii") != note:
        return standard, None
    return standard, packet


def _note(standard: bytes) -> bytes | None:
    """The GUID in `xmpNote:HasExtendedXMP`, written as an attribute or an element."""
    import re

    found = re.search(rb'HasExtendedXMP(?:="|>)([0-9A-Fa-f]{32})', standard)
    return found.group(1).upper() if found else None
