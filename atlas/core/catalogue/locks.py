"""Locks for build-once steps: creating or migrating the schema, building the demo model.

Two commands started at once on a fresh home would otherwise both find the work undone and both
do it (`table licence already exists`, a model registered twice). The one that takes the lock
does the work; the other waits, then finds it done.

Between processes on one machine (and on NFS, where the kernel forwards it) a lock is an
advisory `flock` on a lock file, released by the kernel when its holder dies, so a SIGKILL never
leaves a lock behind. A PostgreSQL catalogue shared by several machines is locked in the server
instead: `pg_advisory_lock`, also released when the holder's connection ends.
"""

import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from atlas.core.errors import AtlasError

if os.name == "nt":  # pragma: no cover - atlas runs on Linux and macOS; Windows locks a byte range
    import msvcrt

    def _lock(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if missing; its folder must exist) for the block.

    Waits as long as the holder holds it: the steps it guards end (or their process dies)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise AtlasError(f"cannot create the lock file {path}: {exc.strerror or exc}") from None
    try:
        _lock(fd)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def sqlite_database_file(engine: Engine) -> Path | None:
    """The file of a SQLite engine's database; None for other databases."""
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    return Path(engine.url.database.removeprefix("file:")).expanduser()


def _advisory_key(name: str) -> int:
    """A stable 63-bit key for pg_advisory_lock, from a name: the same on every machine."""
    return zlib.crc32(f"atlas:{name}".encode()) | (0x61746C61 << 32)  # "atla" in the high bits


@contextmanager
def database_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the catalogue-wide lock `name` for the block: every process using this database,
    on any machine, waits for it.

    PostgreSQL: a session advisory lock on a connection held for the block. SQLite: a lock
    file beside the database file (`atlas.db.NAME.lock`), so two homes sharing one database
    file share the lock too."""
    database = sqlite_database_file(engine)
    if database is not None:
        with file_lock(database.with_name(f"{database.name}.{name}.lock")):
            yield
        return
    if engine.dialect.name != "postgresql":  # pragma: no cover - check_url admits no other database
        yield
        return
    key = _advisory_key(name)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        connection.commit()  # the lock is the session's; no transaction is kept open meanwhile
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()
