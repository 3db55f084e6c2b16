"""Thumbnails on disk for the TUI's preview pane and grid: made once, found by the file's content.

A thumbnail is named by its source's sha256, byte size and edge length
(`home/cache/thumbs/ab/<sha256>-<bytes>-<edge>.jpg`), so an edited file gets a new one and the
old one is never shown for it; a source is hashed again only when its size, mtime or inode
changed (or once per process). Made with Pillow: JPEG sources are decoded at a reduced scale
(`Image.draft`: the decoder skips most of the work), others are reduced by a whole factor
(`Image.reduce`) before the final resampling. Written atomically (`atlas.core.atomic`), so a
reader never sees half a thumbnail. The cache is bounded: past `max_bytes` the least recently
used thumbnails (by mtime, which a hit refreshes) are removed.

`ThumbnailCache.get` is safe to call from worker threads (the TUI makes thumbnails off its UI
thread); two threads making the same thumbnail write the same bytes.
"""

import io
import os
import threading
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from atlas.core.atomic import write_atomic
from atlas.core.catalogue.store import sha256_file
from atlas.core.errors import AtlasError

DEFAULT_EDGE = 256
DEFAULT_MAX_BYTES = 256 << 20
PRUNE_TO = 0.9  # prune down to this share of max_bytes, so a full cache is not pruned on every write
JPEG_QUALITY = 85


class ThumbnailError(AtlasError):
    """A file that cannot be made into a thumbnail (not an image, truncated, too large to decode)."""


def make_thumbnail(source: Path, edge: int) -> tuple[bytes, str]:
    """(bytes, extension) of a thumbnail of `source` fitting in edge x edge: JPEG, or PNG when the
    picture has transparency (a JPEG would turn it black)."""
    try:
        with Image.open(source) as image:
            if image.format == "JPEG":
                image.draft("RGB", (edge, edge))  # decode at 1/2, 1/4 or 1/8 scale, never below edge
            image.load()
            factor = min(image.width // edge, image.height // edge)
            picture = image.reduce(factor) if factor >= 2 else image.copy()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ThumbnailError(f"{source}: no thumbnail: {exc}") from None
    picture = ImageOps.exif_transpose(picture)  # a camera's rotation, as viewers show it
    alpha = picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info)
    picture = picture.convert("RGBA" if alpha else "RGB")
    picture.thumbnail((edge, edge), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    if alpha:
        picture.save(buffer, format="PNG", compress_level=3)
        return buffer.getvalue(), "png"
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue(), "jpg"


class ThumbnailCache:
    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.root = root
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._digests: dict[str, tuple[tuple[int, int, int], str]] = {}  # path -> (stat stamp, sha256)
        self._total: int | None = None  # bytes in the cache, counted on the first write

    @classmethod
    def for_home(cls, home, max_bytes: int = DEFAULT_MAX_BYTES) -> "ThumbnailCache":
        """The cache of an atlas home (`atlas.core.catalogue.home.Home`): home/cache/thumbs."""
        return cls(home.root / "cache" / "thumbs", max_bytes)

    def digest(self, source: Path) -> tuple[str, int]:
        """(sha256, byte size) of `source`, hashed again only when its stat changed."""
        st = source.stat()
        stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
        key = str(source)
        with self._lock:
            known = self._digests.get(key)
        if known is not None and known[0] == stamp:
            return known[1], st.st_size
        digest = sha256_file(source)
        with self._lock:
            self._digests[key] = (stamp, digest)
        return digest, st.st_size

    def _named(self, digest: str, size: int, edge: int) -> list[Path]:
        folder = self.root / digest[:2]
        return [folder / f"{digest}-{size}-{edge}.{ext}" for ext in ("jpg", "png")]

    def get(self, source: str | os.PathLike, edge: int = DEFAULT_EDGE) -> Path:
        """The thumbnail of `source` (made now if the cache has none); ThumbnailError when the
        file is no picture Pillow can read, FileNotFoundError when it is gone."""
        source = Path(source)
        digest, size = self.digest(source)
        for candidate in self._named(digest, size, edge):
            try:
                os.utime(candidate)  # a hit: most recently used now
                return candidate
            except FileNotFoundError:
                continue
        data, ext = make_thumbnail(source, edge)
        target = next(p for p in self._named(digest, size, edge) if p.suffix == f".{ext}")
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data, fsync=False)  # a cache: a power cut may lose it, never half of it
        self._added(len(data))
        return target

    def _added(self, size: int) -> None:
        with self._lock:
            if self._total is None:
                self._total = sum(size for _, size, _ in self._entries())
            else:
                self._total += size
            over = self._total > self.max_bytes
        if over:
            self.prune()

    def _entries(self) -> list[tuple[float, int, Path]]:
        found: list[tuple[float, int, Path]] = []
        if not self.root.is_dir():
            return found
        for folder in os.scandir(self.root):
            if not folder.is_dir(follow_symlinks=False):
                continue
            for entry in os.scandir(folder.path):
                if entry.is_file(follow_symlinks=False) and not entry.name.startswith("."):
                    st = entry.stat(follow_symlinks=False)
                    found.append((st.st_mtime, st.st_size, Path(entry.path)))
        return found

    def prune(self, target_bytes: int | None = None) -> int:
        """Remove the least recently used thumbnails until the cache holds at most `target_bytes`
        (default: 90% of max_bytes); returns how many were removed."""
        limit = int(self.max_bytes * PRUNE_TO) if target_bytes is None else target_bytes
        entries = sorted(self._entries(), key=lambda entry: entry[0])
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, path in entries:
            if total <= limit:
                break
            path.unlink(missing_ok=True)
            total -= size
            removed += 1
        with self._lock:
            self._total = total
        return removed
