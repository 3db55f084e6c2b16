"""Read one file for import: its bytes, hash, image facts and metadata. Runs in worker processes.

Never writes to the source: it is opened read-only, once. With a store root, a copy goes into
the content-addressed store (temp file + rename; the caller syncs the batch before committing).
"""

import hashlib
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from atlas.core.atomic import write_atomic
from atlas.core.catalogue.store import relative_path
from atlas.core.errors import BadInput
from atlas.core.importers.tools import Generation, interpret, json_safe

FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp"}
EXTENSIONS = {".png", ".jpg", ".jpeg", ".webp"}
MAX_BYTES = 1 << 30  # a single render over 1 GiB is not an image we can take


@dataclass
class FileFacts:
    path: str
    size: int = 0
    mtime_ns: int = 0
    sha256: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    created: datetime | None = None
    generation: Generation | None = None
    raw: dict = field(default_factory=dict)
    store_path: str | None = None  # set when copied into the store
    store_created: bool = False  # whether this read put a new file there
    error: str | None = None  # why the file cannot be imported


def _exif_and_xmp(image) -> dict:
    """JPEG/WebP metadata as text: EXIF UserComment (A1111 writes it UTF-16) and the XMP packet."""
    raw = {}
    try:
        exif = image.getexif().get_ifd(0x8769)
        comment = exif.get(0x9286)  # UserComment
    except Exception:
        comment = None
    if isinstance(comment, bytes) and len(comment) > 8:
        prefix, body = comment[:8], comment[8:]
        if prefix.startswith(b"UNICODE"):
            encoding = "utf-16-le" if body[:1] != b"\0" and body[1:2] == b"\0" else "utf-16-be"
        else:
            encoding = "utf-8"
        raw["UserComment"] = body.decode(encoding, errors="replace").rstrip("\0")
    elif isinstance(comment, str) and comment:
        raw["UserComment"] = comment
    xmp = image.info.get("xmp")
    if xmp:
        raw["XML:com.adobe.xmp"] = xmp.decode("utf-8", errors="replace") if isinstance(xmp, bytes) else str(xmp)
    return raw


def _png_texts(data: bytes, what: str) -> dict:
    from atlas.core.files import png

    return png.texts(png.read_chunks(data, what), what)


def _copy_into_store(store_root: Path, digest: str, ext: str, data: bytes) -> tuple[str, bool]:
    rel = relative_path(digest, ext)
    target = store_root / rel
    if target.exists():
        return rel, False
    write_atomic(target, data, fsync=False)  # the batch syncs once before committing
    return rel, True


def read_file(path: str, store_root: str | None = None) -> FileFacts:
    """Everything an import needs from `path`; problems come back in `.error`, never raised."""
    facts = FileFacts(path=path)
    try:
        _read(facts, Path(path), Path(store_root) if store_root else None)
    except BadInput as exc:
        facts.error = str(exc).replace(f"{path}: ", "")
    except OSError as exc:
        facts.error = f"cannot read the file: {exc.strerror or exc}"
    except Exception as exc:
        facts.error = f"unreadable: {type(exc).__name__}: {exc}"
    return facts


def _read(facts: FileFacts, path: Path, store_root: Path | None) -> None:
    from PIL import Image, UnidentifiedImageError

    with open(path, "rb") as fh:  # read-only, once
        st = os.fstat(fh.fileno())
        if st.st_size > MAX_BYTES:
            raise BadInput(f"{path}: larger than {MAX_BYTES >> 20} MiB")
        data = fh.read()
    facts.size, facts.mtime_ns = len(data), st.st_mtime_ns
    facts.created = datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC)
    if not data:
        raise BadInput(f"{path}: empty file")
    texts = None
    if data.startswith(b"\x89PNG"):  # our chunk reader names the fault (bad CRC, truncation) precisely
        texts = _png_texts(data, str(path))
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise BadInput(f"{path}: not an image PIL can identify (PNG, JPEG or WebP expected)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"{path}: damaged image data ({exc})") from None
    fmt = FORMATS.get(image.format or "")
    if fmt is None:
        raise BadInput(f"{path}: {image.format} images are not supported (PNG, JPEG or WebP)")
    facts.format, (facts.width, facts.height) = fmt, image.size
    if fmt == "png":
        facts.raw = texts if texts is not None else _png_texts(data, str(path))  # CRCs checked, IEND found
        stealth_possible = image.mode in ("RGBA", "LA", "PA")
        if stealth_possible or not facts.raw:
            _decode(image, path)
    else:
        _decode(image, path)
        facts.raw = _exif_and_xmp(image)
    gen = interpret(facts.raw, image, text_chunks=fmt == "png")
    facts.generation = gen
    facts.raw = json_safe({**facts.raw, **(gen.hidden_raw if gen else {})})
    facts.sha256 = hashlib.sha256(data).hexdigest()
    if store_root is not None:
        facts.store_path, facts.store_created = _copy_into_store(store_root, facts.sha256, fmt, data)


def _decode(image, path: Path) -> None:
    """Decode the pixels: a truncated or damaged image fails here, with the decoder's reason."""
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"{path}: damaged image data ({exc})") from None
