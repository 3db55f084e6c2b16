"""PNG chunk lists: read them, and add or replace text chunks without touching pixel data.

Metadata goes in by rewriting the chunk list: IDAT bytes are copied as they are, never re-encoded.
"""

import struct
import zlib
from dataclasses import dataclass

from atlas.core.errors import BadInput

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"iTXt", b"zTXt")
MAX_INFLATED = 64 << 20  # a compressed text chunk may not inflate past this (zip bombs)


@dataclass(frozen=True)
class Chunk:
    type: bytes
    data: bytes

    def encode(self) -> bytes:
        crc = zlib.crc32(self.type + self.data) & 0xFFFFFFFF
        return struct.pack(">I", len(self.data)) + self.type + self.data + struct.pack(">I", crc)


def read_chunks(data: bytes, what: str = "file") -> list[Chunk]:
    """Every chunk of a PNG, checking the signature, lengths and CRCs; IEND must end it."""
    if not data.startswith(SIGNATURE):
        raise BadInput(f"{what}: not a PNG file (bad signature)")
    chunks, pos = [], len(SIGNATURE)
    while True:
        if pos + 8 > len(data):
            raise BadInput(f"{what}: truncated PNG (no IEND chunk)")
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 8 + length + 4
        if end > len(data):
            raise BadInput(f"{what}: chunk {ctype!r} at byte {pos} runs past the end of the file")
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(ctype + body) & 0xFFFFFFFF != crc:
            raise BadInput(f"{what}: bad CRC in chunk {ctype!r} at byte {pos}")
        chunks.append(Chunk(ctype, body))
        pos = end
        if ctype == b"IEND":
            return chunks


def _inflate(payload: bytes, what: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(payload, MAX_INFLATED + 1)
    except zlib.error as exc:
        raise BadInput(f"{what}: corrupt compressed text: {exc}") from None
    if len(out) > MAX_INFLATED:
        raise BadInput(f"{what}: compressed text inflates past {MAX_INFLATED} bytes")
    return out


def decode_text(chunk: Chunk, what: str = "file") -> tuple[str, str]:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk."""
    keyword, sep, rest = chunk.data.partition(b"\0")
    if not sep:
        raise BadInput(f"{what}: {chunk.type.decode()} chunk without a keyword separator")
    key = keyword.decode("latin-1")
    if chunk.type == b"tEXt":
        return key, rest.decode("latin-1")
    if chunk.type == b"zTXt":
        return key, _inflate(rest[1:], what).decode("latin-1")
    if len(rest) < 2:
        raise BadInput(f"{what}: truncated iTXt chunk {key!r}")
    compressed, _method, rest = rest[0], rest[1], rest[2:]
    _lang, _, rest = rest.partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    if compressed:
        text = _inflate(text, what)
    try:
        return key, text.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{what}: iTXt chunk {key!r} is not valid UTF-8") from None


def text_chunk(keyword: str, text: str, compress: bool = False) -> Chunk:
    """tEXt when the text is Latin-1 (what most readers expect), else iTXt in UTF-8."""
    key = keyword.encode("latin-1")
    if not 1 <= len(key) <= 79:
        raise ValueError(f"PNG keyword must be 1-79 bytes: {keyword!r}")
    if not compress:
        try:
            return Chunk(b"tEXt", key + b"\0" + text.encode("latin-1"))
        except UnicodeEncodeError:
            pass
    body = text.encode("utf-8")
    flag = b"\1\0" if compress else b"\0\0"
    return Chunk(b"iTXt", key + b"\0" + flag + b"\0\0" + (zlib.compress(body, 9) if compress else body))


def texts(chunks: list[Chunk], what: str = "file") -> dict[str, str]:
    return dict(decode_text(c, what) for c in chunks if c.type in TEXT_TYPES)


def with_text(data: bytes, entries: list[Chunk], what: str = "file") -> bytes:
    """The PNG `data` with `entries` added right after IHDR, replacing text chunks of the same keyword."""
    chunks = read_chunks(data, what)
    replaced = {c.data.partition(b"\0")[0] for c in entries}
    kept = [c for c in chunks
            if not (c.type in TEXT_TYPES and c.data.partition(b"\0")[0] in replaced)]
    out = [SIGNATURE, kept[0].encode()]
    out += [c.encode() for c in entries]
    out += [c.encode() for c in kept[1:]]
    return b"".join(out)
