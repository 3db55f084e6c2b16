"""PNG chunk lists: read them, and add or replace text chunks without touching pixel data.

Metadata goes in by rewriting the chunk list: IDAT bytes are copied as they are, never re-encoded.
The file variants stream: chunk headers are read one by one and image data is copied across in
blocks (kernel-side where the OS allows), so an 8192x4096 PNG is neither decoded nor held in memory.

Every malformed input gives `BadInput` naming the file, the chunk and the byte offset.
"""

import io
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, overload

from atlas.core.atomic import atomic_file
from atlas.core.errors import BadInput

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"iTXt", b"zTXt")
MAX_INFLATED = 16 << 20  # a compressed text chunk may not inflate past this (zip bombs)
MAX_LENGTH = (1 << 31) - 1  # the PNG spec's limit on a chunk's data length
MAX_LOADED_CHUNK = 64 << 20  # a non-image chunk bigger than this is not loaded into memory
MAX_LOADED_TOTAL = 128 << 20  # nor are more non-image bytes than this, however they are split
BLOCK = 1 << 20
IMAGE_DATA = (b"IDAT", b"fdAT")  # chunks that may be huge and are copied, never loaded


@dataclass(frozen=True)
class Chunk:
    type: bytes
    data: bytes

    def encode(self) -> bytes:
        crc = zlib.crc32(self.type + self.data) & 0xFFFFFFFF
        return struct.pack(">I", len(self.data)) + self.type + self.data + struct.pack(">I", crc)

    @property
    def keyword(self) -> bytes | None:
        """The keyword of a text chunk, else None."""
        return self.data.partition(b"\0")[0] if self.type in TEXT_TYPES else None


@dataclass(frozen=True)
class ChunkSpan:
    """Where a chunk lies in a file: `offset` is the start of its length field."""

    type: bytes
    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + 12 + self.length


def _name(ctype: bytes) -> str:
    return ctype.decode("latin-1") if ctype.isalpha() else repr(ctype)


def _check_header(length: int, ctype: bytes, pos: int, size: int, what: str, first: bool) -> None:
    if length > MAX_LENGTH:
        raise BadInput(f"{what}: chunk at byte {pos} claims {length} bytes, more than PNG allows")
    if not ctype.isalpha() or not ctype.isascii():
        raise BadInput(f"{what}: corrupt PNG: chunk type {ctype!r} at byte {pos} is not four letters")
    if pos + 12 + length > size:
        raise BadInput(f"{what}: chunk {_name(ctype)} at byte {pos} claims {length} bytes, past the end "
                       f"of the file ({size} bytes): the file is truncated or corrupt")
    if first and ctype != b"IHDR":
        raise BadInput(f"{what}: corrupt PNG: the first chunk is {_name(ctype)}, not IHDR")


def _check_signature(head: bytes, size: int, what: str) -> None:
    if size == 0:
        raise BadInput(f"{what}: empty file, not a PNG")
    if not head.startswith(SIGNATURE):
        if SIGNATURE.startswith(head):
            raise BadInput(f"{what}: truncated PNG ({size} bytes, no chunks)")
        raise BadInput(f"{what}: not a PNG file (it does not start with the PNG signature)")


def _crc_error(ctype: bytes, pos: int, what: str) -> BadInput:
    return BadInput(f"{what}: bad CRC in chunk {_name(ctype)} at byte {pos}: the file is corrupt")


def _missing_iend(what: str) -> BadInput:
    return BadInput(f"{what}: truncated PNG: the file ends before the IEND chunk")


def _no_image_data(what: str) -> BadInput:
    return BadInput(f"{what}: broken PNG: it has no IDAT chunk, so no image")


def read_chunks(data: bytes, what: str = "file") -> list[Chunk]:
    """Every chunk of an in-memory PNG, checking signature, order, lengths and CRCs; IEND must end it."""
    return [Chunk(span.type, body) for span, body in scan_file(io.BytesIO(data), what, whole=True)]


def _read_exact(fh: BinaryIO, count: int, what: str) -> bytes:
    data = fh.read(count)
    if len(data) != count:
        raise BadInput(f"{what}: the file changed or was truncated while being read")
    return data


def _stream_crc(fh: BinaryIO, ctype: bytes, length: int, what: str) -> int:
    crc, left = zlib.crc32(ctype), length
    while left:
        block = _read_exact(fh, min(BLOCK, left), what)
        crc = zlib.crc32(block, crc)
        left -= len(block)
    return crc & 0xFFFFFFFF


# `whole` loads image data too: then every chunk comes with its data.
@overload
def scan_file(fh: BinaryIO, what: str = ..., check_crc: bool = ..., *,
              whole: Literal[True]) -> Iterator[tuple[ChunkSpan, bytes]]: ...
@overload
def scan_file(fh: BinaryIO, what: str = ..., check_crc: bool = ...,
              whole: bool = ...) -> Iterator[tuple[ChunkSpan, bytes | None]]: ...
def scan_file(fh: BinaryIO, what: str = "file", check_crc: bool = True,
              whole: bool = False) -> Iterator[tuple[ChunkSpan, bytes | None]]:
    """The chunks of an open PNG file in order: (span, data), data None for image data chunks.

    Image data is streamed for its CRC (when `check_crc`) but never held; other chunks are loaded.
    `whole` loads every chunk, image data too (for PNGs already in memory: `read_chunks`).
    """
    size = fh.seek(0, os.SEEK_END)
    fh.seek(0)
    _check_signature(fh.read(8), size, what)
    pos, first, seen_idat = len(SIGNATURE), True, False
    while True:
        if pos + 12 > size:
            raise _missing_iend(what)
        fh.seek(pos)
        length, ctype = struct.unpack(">I4s", _read_exact(fh, 8, what))
        _check_header(length, ctype, pos, size, what, first)
        first = False
        span = ChunkSpan(ctype, pos, length)
        if not whole and (ctype in IMAGE_DATA or length > MAX_LOADED_CHUNK):
            body = None
            if check_crc:
                crc = _stream_crc(fh, ctype, length, what)
            else:
                fh.seek(length, os.SEEK_CUR)
        else:
            body = _read_exact(fh, length, what)
            crc = zlib.crc32(body, zlib.crc32(ctype)) & 0xFFFFFFFF
        (stored,) = struct.unpack(">I", _read_exact(fh, 4, what))
        if (check_crc or body is not None) and crc != stored:
            raise _crc_error(ctype, pos, what)
        seen_idat = seen_idat or ctype == b"IDAT"
        if ctype == b"IEND" and not seen_idat:
            raise _no_image_data(what)
        yield span, body
        pos = span.end
        if ctype == b"IEND":
            return


def read_file_chunks(path: str | os.PathLike, what: str | None = None) -> list[Chunk]:
    """The non-image chunks of a PNG file (IHDR, text, ...), every CRC checked, without loading IDAT."""
    what = what or str(path)
    chunks, total = [], 0
    with _open(path, what) as fh:
        for span, body in scan_file(fh, what):
            if body is None:
                continue
            total += len(body)
            if total > MAX_LOADED_TOTAL:
                raise BadInput(f"{what}: more than {MAX_LOADED_TOTAL} bytes of non-image chunks; refusing "
                               "to load them")
            chunks.append(Chunk(span.type, body))
    return chunks


def _open(path, what: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise BadInput(f"{what}: no such file") from None
    except IsADirectoryError:
        raise BadInput(f"{what}: is a directory, not a file") from None
    except PermissionError:
        raise BadInput(f"{what}: permission denied") from None


def _inflate(payload: bytes, what: str, key: str) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(payload, MAX_INFLATED + 1)
    except zlib.error as exc:
        raise BadInput(f"{what}: corrupt compressed text in chunk {key!r}: {exc}") from None
    if len(out) > MAX_INFLATED:
        raise BadInput(f"{what}: compressed text chunk {key!r} inflates past the limit of "
                       f"{MAX_INFLATED} bytes; refusing it")
    return out


def split_text(chunk: Chunk, what: str = "file") -> tuple[str, bytes, bool]:
    """(keyword, payload, compressed) of a tEXt, zTXt or iTXt chunk: its layout checked, its text
    not yet inflated or decoded (atlas's own reader is strict, the importer lenient and budgeted)."""
    keyword, sep, rest = chunk.data.partition(b"\0")
    kind = chunk.type.decode()
    if not sep:
        raise BadInput(f"{what}: {kind} chunk without a keyword separator")
    key = keyword.decode("latin-1")
    if chunk.type == b"tEXt":
        return key, rest, False
    if chunk.type == b"zTXt":
        if not rest or rest[0] != 0:
            raise BadInput(f"{what}: zTXt chunk {key!r} has an unknown compression method")
        return key, rest[1:], True
    if len(rest) < 2:
        raise BadInput(f"{what}: truncated iTXt chunk {key!r}")
    compressed, method, rest = rest[0], rest[1], rest[2:]
    _lang, sep1, rest = rest.partition(b"\0")
    _translated, sep2, text = rest.partition(b"\0")
    if not (sep1 and sep2):
        raise BadInput(f"{what}: truncated iTXt chunk {key!r}")
    if compressed and method != 0:
        raise BadInput(f"{what}: iTXt chunk {key!r} has an unknown compression method")
    return key, text, bool(compressed)


def decode_text(chunk: Chunk, what: str = "file") -> tuple[str, str]:
    """(keyword, text) of a tEXt, zTXt or iTXt chunk, decoded as the PNG spec says: Latin-1, or
    UTF-8 in iTXt."""
    key, payload, compressed = split_text(chunk, what)
    if compressed:
        payload = _inflate(payload, what, key)
    try:
        return key, payload.decode("utf-8" if chunk.type == b"iTXt" else "latin-1")
    except UnicodeDecodeError:  # only iTXt: Latin-1 decodes any byte
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
    return itxt_chunk(keyword, text, compress)


def itxt_chunk(keyword: str, text: str, compress: bool = False) -> Chunk:
    """An iTXt chunk (UTF-8; XMP must be iTXt, uncompressed, for readers that scan for it)."""
    body = text.encode("utf-8")
    flag = b"\1\0" if compress else b"\0\0"
    return Chunk(b"iTXt", keyword.encode("latin-1") + b"\0" + flag + b"\0\0"
                 + (zlib.compress(body, 9) if compress else body))


def texts(chunks: list[Chunk], what: str = "file") -> dict[str, str]:
    """keyword -> text of the text chunks; the last one wins when a keyword repeats."""
    return dict(decode_text(c, what) for c in chunks if c.type in TEXT_TYPES)


def _replaced_by(entries: list[Chunk]) -> set[bytes]:
    return {c.keyword for c in entries if c.keyword is not None}


def with_text(data: bytes, entries: list[Chunk], what: str = "file") -> bytes:
    """The PNG `data` with `entries` added right after IHDR, replacing text chunks of the same keyword."""
    chunks = read_chunks(data, what)
    replaced = _replaced_by(entries)
    kept = [c for c in chunks if c.keyword is None or c.keyword not in replaced]
    out = [SIGNATURE, kept[0].encode()]
    out += [c.encode() for c in entries]
    out += [c.encode() for c in kept[1:]]
    return b"".join(out)


def _copy_range(src: BinaryIO, dst: BinaryIO, offset: int, count: int) -> None:
    """Copy `count` bytes from `src` at `offset` to the current end of `dst`, in the kernel when possible."""
    dst.flush()
    left = count
    if hasattr(os, "copy_file_range"):
        try:
            while left:
                done = os.copy_file_range(src.fileno(), dst.fileno(), left, offset + count - left)
                if done == 0:
                    break
                left -= done
        except OSError:
            pass  # other file systems: fall back to reading and writing
    if left:
        src.seek(offset + count - left)
        dst.seek(0, os.SEEK_END)
        while left:
            block = _read_exact(src, min(BLOCK, left), "source")
            dst.write(block)
            left -= len(block)
    dst.seek(0, os.SEEK_END)


def rewrite_file(src: str | os.PathLike, dst: str | os.PathLike, entries: list[Chunk],
                 what: str | None = None, check_crc: bool = True, fsync: bool = True) -> None:
    """Write `src` to `dst` with `entries` right after IHDR, replacing text chunks of the same keyword.

    Every chunk other than the replaced ones is copied byte for byte. `dst` appears atomically and
    only when the whole source was read without error; `src` is never written to. `dst` is an
    ordinary file (0644); `fsync=False` leaves syncing to a caller that writes many.
    """
    what = what or str(src)
    dst = Path(dst)
    if Path(src).resolve() == dst.resolve():
        raise BadInput(f"{what}: cannot rewrite a file onto itself; write a new file")
    replaced = _replaced_by(entries)
    with _open(src, what) as fh, atomic_file(dst, mode=0o644, fsync=fsync) as out:
        out.write(SIGNATURE)
        # Runs of kept chunks are copied in one go: a render has hundreds of small IDATs.
        run_start: int | None = None  # the run is run_start..run_end
        run_end = 0
        for span, body in scan_file(fh, what, check_crc):
            if body is not None and span.type in TEXT_TYPES and Chunk(span.type, body).keyword in replaced:
                if run_start is not None:
                    _copy_range(fh, out, run_start, run_end - run_start)
                run_start = None
                continue
            if run_start is None:
                run_start = span.offset
            run_end = span.end
            if span.type == b"IHDR":
                _copy_range(fh, out, run_start, run_end - run_start)
                out.write(b"".join(c.encode() for c in entries))
                run_start = None
        if run_start is not None:
            _copy_range(fh, out, run_start, run_end - run_start)
