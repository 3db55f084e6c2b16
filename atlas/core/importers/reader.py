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
from atlas.core.files import png
from atlas.core.files.regular import open_regular
from atlas.core.importers import content_credentials, extract
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
    problem: str | None = None  # why its metadata could not be read (the file is still imported)
    c2pa: dict | None = None  # its Content Credentials (content_credentials.summary), when it has any


class StoreWriteFailed(Exception):
    """The file was read, but its copy could not be written into the store (a full disk, a read-only home)."""


# Store folders this process has made or found: one mkdir per folder, not per file (a path, never
# an object; a folder gone since is made again by the slow path).
_FOLDERS_MADE: set[str] = set()


def _copy_into_store(store_root: Path, digest: str, ext: str, data: bytes) -> tuple[str, bool]:
    rel = relative_path(digest, ext)
    target = store_root / rel
    if target.exists():
        return rel, False
    try:
        if not _fast_write(target, digest, data):
            write_atomic(target, data, fsync=False)  # the batch syncs once before committing
    except OSError as exc:
        raise StoreWriteFailed(f"cannot copy it into the store {store_root}: {exc.strerror or exc}") from None
    return rel, True


def _fast_write(target: Path, digest: str, data: bytes) -> bool:
    """`write_atomic` without its per-file mkdir and random temp name (a third of a small file's
    import): a temp file named by the content and this process, then renamed into place. False
    when that name is taken or the folder is gone, for the caller's slow path."""
    folder = str(target.parent)
    if folder not in _FOLDERS_MADE:
        os.makedirs(folder, exist_ok=True)
        _FOLDERS_MADE.add(folder)
    tmp = os.path.join(folder, f".tmp-{digest[:20]}-{os.getpid()}{target.suffix}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # 0600, as mkstemp makes it
    except (FileExistsError, FileNotFoundError):
        _FOLDERS_MADE.discard(folder)
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def read_file(path: str, store_root: str | None = None) -> FileFacts:
    """Everything an import needs from `path`; problems come back in `.error`, never raised."""
    facts = FileFacts(path=path)
    try:
        _read(facts, Path(path), Path(store_root) if store_root else None)
    except BadInput as exc:
        facts.error = str(exc).replace(f"{path}: ", "")
    except StoreWriteFailed as exc:
        facts.error = str(exc)
    except OSError as exc:
        facts.error = f"cannot read the file: {exc.strerror or exc}"
    except Exception as exc:
        facts.error = f"unreadable: {type(exc).__name__}: {exc}"
    return facts


def _read(facts: FileFacts, path: Path, store_root: Path | None) -> None:
    from PIL import Image, UnidentifiedImageError

    with open_regular(path) as fh:  # read-only, once; FIFOs and devices refused by type
        st = os.fstat(fh.fileno())
        if st.st_size > MAX_BYTES:
            raise BadInput(f"{path}: larger than {MAX_BYTES >> 20} MiB")
        data = fh.read()
    facts.size, facts.mtime_ns = len(data), st.st_mtime_ns
    facts.created = datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC)
    if not data:
        raise BadInput(f"{path}: empty file")
    chunks = None
    if data.startswith(png.SIGNATURE):  # our chunk reader names the fault (bad CRC, truncation) precisely
        chunks = png.read_chunks(data, str(path))
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise BadInput(f"{path}: not an image PIL can identify (PNG, JPEG or WebP expected)") from None
    except Image.DecompressionBombError as exc:
        raise BadInput(f"{path}: refused: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"{path}: damaged image data ({exc})") from None
    fmt = FORMATS.get(image.format or "")
    if fmt is None:
        raise BadInput(f"{path}: {image.format} images are not supported (PNG, JPEG or WebP)")
    facts.format, (facts.width, facts.height) = fmt, image.size
    if chunks is None or image.mode in ("RGBA", "LA", "PA") or not any(c.type in png.TEXT_TYPES for c in chunks):
        _decode(image, path)  # a PNG with text and no alpha is decoded only when its text says nothing
    try:
        facts.raw = extract.png_metadata(chunks, str(path)) if chunks is not None else extract.extract(data, str(path))
        facts.generation = interpret(facts.raw)
    except BadInput as exc:  # the image is fine, its metadata is not: catalogued, with the reason
        facts.problem = str(exc).replace(f"{path}: ", "")
    in_pixels = chunks is not None or (fmt == "webp" and image.mode == "RGBA")  # WebP: NovelAI's, in the alpha
    if in_pixels and facts.generation is None and facts.problem is None:
        _decode(image, path)
        try:  # A1111's stealth metadata, in the pixels
            facts.raw.update(extract.stealth(image, str(path)))
            facts.generation = interpret(facts.raw)
        except BadInput as exc:
            facts.problem = str(exc).replace(f"{path}: ", "")
    facts.raw = json_safe(facts.raw)
    facts.c2pa = content_credentials.read(data, fmt)
    facts.sha256 = hashlib.sha256(data).hexdigest()
    if store_root is not None:
        facts.store_path, facts.store_created = _copy_into_store(store_root, facts.sha256, fmt, data)


def _decode(image, path: Path) -> None:
    """Decode the pixels: a truncated or damaged image fails here, with the decoder's reason."""
    from PIL import Image

    try:
        image.load()
    except Image.DecompressionBombError as exc:
        raise BadInput(f"{path}: refused: {exc}") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"{path}: damaged image data ({exc})") from None
