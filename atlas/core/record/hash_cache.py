"""A per-machine cache of file hashes keyed by (path, size, mtime), so rescanning models is cheap.

Kept in the home (`model-hashes.json`), not in the catalogue: paths, sizes and mtimes are facts of
one machine. A file whose size or mtime changed is hashed again; a damaged cache is started afresh.
"""

import json
import os
from pathlib import Path

from atlas.core.atomic import write_atomic
from atlas.core.catalogue.store import sha256_file


class HashCache:
    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, list] = {}
        self.changed = False
        self.hashed = 0  # files read this time (the tests count them)
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, ValueError):
            pass

    def digest(self, path: str | os.PathLike) -> str:
        path = Path(path).resolve()
        st = path.stat()
        key = str(path)
        entry = self.entries.get(key)
        if isinstance(entry, list) and entry[:2] == [st.st_size, st.st_mtime_ns] and isinstance(entry[2], str):
            return entry[2]
        digest = sha256_file(path)
        self.hashed += 1
        self.entries[key] = [st.st_size, st.st_mtime_ns, digest]
        self.changed = True
        return digest

    def save(self) -> None:
        if self.changed:
            try:
                write_atomic(self.path, json.dumps(self.entries, sort_keys=True).encode())
            except OSError:  # a read-only home only costs the next scan a rehash
                pass
            self.changed = False
