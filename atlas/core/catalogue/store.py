"""The content-addressed file store: files live at store/ab/cd/<sha256>.<ext>, written atomically."""

import hashlib
import os
from pathlib import Path

from atlas.core.atomic import write_atomic

CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def relative_path(sha256: str, ext: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"


class Store:
    def __init__(self, root: Path):
        self.root = root

    def path_of(self, store_path: str) -> Path:
        return self.root / store_path

    def put(self, data: bytes, ext: str) -> tuple[str, str, bool]:
        """Store `data`; returns (sha256, store path, created). An existing identical file is kept."""
        digest = sha256_bytes(data)
        rel = relative_path(digest, ext)
        target = self.root / rel
        if target.exists():
            return digest, rel, False
        write_atomic(target, data)
        return digest, rel, True

    def remove(self, store_path: str) -> None:
        (self.root / store_path).unlink(missing_ok=True)
