"""The content-addressed file store: files live at store/ab/cd/<sha256>.<ext>, written atomically.

The root comes from `Home.store` (`ATLAS_STORE`, `[store] path`, else home/store); the catalogue
keeps every store path relative to it, so machines sharing one store may mount it anywhere.
A file is written to a temporary file in its own folder, fsynced, then renamed into place: a
reader (or another machine) sees no file or the whole file. An address is never overwritten:
if a file is already there its bytes must be the ones that hash to its name.
"""

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from atlas.core.errors import AtlasError

CHUNK = 1 << 20
TEMP_PREFIX = ".tmp-"  # atomic.atomic_file's temporary files: a crash mid-write leaves one behind


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def relative_path(sha256: str, ext: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"


def address_digest(store_path: str) -> str | None:
    """The sha256 a store path names (its file name's stem), or None for a name that is no address."""
    stem = store_path.rsplit("/", 1)[-1].split(".", 1)[0]
    if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem):
        return stem
    return None


class StoreConflict(AtlasError):
    """A file at a content address holds other bytes than its name says: never overwritten."""


def check_existing(target: Path, digest: str) -> None:
    """Raise StoreConflict when the file at `target` (named for `digest`) does not hash to it."""
    found = sha256_file(target)
    if found != digest:
        raise StoreConflict(f"{target}: the store already holds a file at this address whose sha256 is {found}, "
                            f"not {digest} as its name says; it is left as it is (run `atlas verify --all`)")


class Store:
    def __init__(self, root: Path):
        self.root = root

    def path_of(self, store_path: str) -> Path:
        return self.root / store_path

    def put(self, data: bytes, ext: str) -> tuple[str, str, bool]:
        """Store `data`; returns (sha256, store path, created). An existing identical file is kept;
        an existing file with other bytes raises StoreConflict. The new file is fsynced (data and
        its folder entry) before this returns, so a row committed afterwards never names a file
        that a power cut could lose."""
        digest = sha256_bytes(data)
        rel = relative_path(digest, ext)
        target = self.root / rel
        if target.exists():
            check_existing(target, digest)
            return digest, rel, False
        created = place(target, data)
        if not created:  # another writer (process or machine) put it there first
            check_existing(target, digest)
        return digest, rel, created

    def remove(self, store_path: str) -> None:
        (self.root / store_path).unlink(missing_ok=True)

    def walk(self) -> Iterator[tuple[str, Path]]:
        """Every file in the store as (store path, path), folder by folder in sorted order: one
        `os.scandir` at a time, so memory stays bounded by the largest folder (256 entries at the
        two fan-out levels, a few thousand files in a leaf) for any number of files."""
        yield from self._walk(self.root, "")

    def _walk(self, folder: Path, prefix: str) -> Iterator[tuple[str, Path]]:
        try:
            with os.scandir(folder) as entries:
                # a folder sorts as "name/": the walk then yields paths in plain string order, the
                # order of the catalogue's sorted store paths (actions/verify.py merges the two)
                names = sorted(((e.name, e.is_dir(follow_symlinks=False)) for e in entries),
                               key=lambda entry: entry[0] + "/" if entry[1] else entry[0])
        except FileNotFoundError:
            return
        for name, is_dir in names:
            rel = f"{prefix}{name}"
            if is_dir:
                yield from self._walk(folder / name, rel + "/")
            else:
                yield rel, folder / name


def place(target: Path, data: bytes) -> bool:
    """Write `data` at `target` unless a file is there; False when one was (it is not touched).

    The bytes go to a temporary file in the same folder, are fsynced, then hard-linked to the
    target name: a link never replaces an existing name, so two writers racing to one address
    cannot overwrite each other (a rename would). Where the file system has no hard links (some
    SMB mounts) the rename is used, after checking the name is free.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TEMP_PREFIX, suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        except OSError:  # no hard links here
            if target.exists():
                return False
            os.replace(tmp, target)
        sync_folder(target.parent)
        return True
    finally:
        Path(tmp).unlink(missing_ok=True)


def sync_folder(folder: Path) -> None:
    """fsync a folder, so a rename into it survives a power cut (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
