"""Building PNG files chunk by chunk for the metadata tests (no Pillow encode: big files stay cheap)."""

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
