"""PNG files for the metadata tests: built chunk by chunk (no Pillow encode: big files stay cheap), and
damaged on purpose (a flipped byte, a lying length, a decompression bomb) to check the refusals."""

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

from atlas.core.files import png


def chunk(ctype: bytes, data: bytes) -> bytes:
    return png.Chunk(ctype, data).encode()


def ihdr(width: int, height: int, color_type: int = 2) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0))


def write_rgb_png(path: Path, width: int, height: int, stream: bytes, idat_size: int) -> Path:
    """An RGB PNG from an already deflated image stream, split into IDAT chunks of `idat_size`."""
    with open(path, "wb") as fh:
        fh.write(png.SIGNATURE + ihdr(width, height))
        for start in range(0, len(stream), idat_size):
            fh.write(chunk(b"IDAT", stream[start:start + idat_size]))
        fh.write(chunk(b"IEND", b""))
    return path


def zero_rows_png(path: Path, width: int, height: int, idat_size: int = 1 << 20) -> Path:
    """A black RGB PNG, compressed row by row (an 8192x4096 image costs a fraction of a second)."""
    row = b"\0" * (1 + 3 * width)
    deflate = zlib.compressobj(6)
    stream = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    return write_rgb_png(path, width, height, stream, idat_size)


def stored_png(path: Path, width: int, height: int, seed: int = 0, idat_size: int = 1 << 18) -> Path:
    """An RGB PNG of pseudo-random pixels deflated at level 0: its IDAT is as big as the pixels."""
    import random

    rng = random.Random(seed)
    raw = b"".join(b"\0" + rng.randbytes(3 * width) for _ in range(height))
    stream = zlib.compress(raw, 0)
    return write_rgb_png(path, width, height, stream, idat_size)


def small_png(width: int = 8, height: int = 8, color=(200, 40, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


def idat_bytes(data: bytes) -> bytes:
    """The concatenated IDAT payloads: what must never change when metadata is added."""
    return b"".join(c.data for c in png.read_chunks(data) if c.type == b"IDAT")


def idat_file_bytes(path: Path) -> bytes:
    return idat_bytes(Path(path).read_bytes())


def text_png() -> bytes:
    """A small valid PNG with an A1111-style `parameters` text chunk: what the damage helpers start from."""
    return png.with_text(small_png(16, 16), [png.text_chunk("parameters", "p\nSteps: 1, Seed: 2, CFG scale: 3")])


def chunk_at(data: bytes, ctype: bytes) -> int:
    """Where the first chunk of type `ctype` starts (at its length field)."""
    return data.index(ctype) - 4


def flip(data: bytes, at: int, mask: int = 0x01) -> bytes:
    """`data` with the byte at `at` XORed with `mask`: the CRC of the chunk holding it no longer matches."""
    return data[:at] + bytes([data[at] ^ mask]) + data[at + 1:]


def flip_idat(data: bytes) -> bytes:
    """`data` with its first image-data byte inverted: same size, bad IDAT CRC."""
    return flip(data, chunk_at(data, b"IDAT") + 8 + 4, 0xFF)


def set_length(data: bytes, value: int, ctype: bytes = b"IDAT") -> bytes:
    """`data` whose first `ctype` chunk claims a length of `value`."""
    at = chunk_at(data, ctype)
    return data[:at] + struct.pack(">I", value) + data[at + 4:]


def with_bomb(data: bytes, kind: bytes = b"iTXt", keyword: bytes = b"bomb") -> bytes:
    """`data` with a compressed text chunk before its IDAT that inflates past png.MAX_INFLATED."""
    payload = zlib.compress(b"A" * (png.MAX_INFLATED + 4096), 9)
    body = keyword + (b"\0\0" if kind == b"zTXt" else b"\0\1\0\0\0") + payload
    at = chunk_at(data, b"IDAT")
    return data[:at] + chunk(kind, body) + data[at:]
