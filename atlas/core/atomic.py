"""Atomic file writes: readers see the old file or the complete new one, never a part.

The bytes go to a temporary file in the target's folder (so the final rename stays on one file
system), are flushed and fsynced, then `os.replace` puts the file in place in one step. If
writing fails, the temporary file is removed and the target is left as it was.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_file(path: str | os.PathLike, mode: int | None = None, fsync: bool = True) -> Iterator[BinaryIO]:
    """A binary file to write into; it becomes `path` only when the block ends without an error.

    The new file is readable by its owner only (mkstemp's 0600) unless `mode` says otherwise.
    `fsync=False` is for callers that sync a whole batch of files at once (imports: `os.sync()`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            if mode is not None:
                os.fchmod(fh.fileno(), mode)
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: str | os.PathLike, data: bytes, mode: int | None = None, fsync: bool = True) -> None:
    """Write `data` to `path` atomically (see `atomic_file`)."""
    with atomic_file(path, mode, fsync) as fh:
        fh.write(data)
