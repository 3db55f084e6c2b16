"""The opened catalogue: the database, the file store and the home they live in, together.

It also owns the reads every part shares, so each is written once: where a render's file is
(`Catalogue.file_of`), the tags of renders (`tags_of`) and what a licence looks like when a record,
a page or a screen names it (`licence_ref`).
"""

from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col, select

from atlas.core.catalogue.database import HEAD, check_url, make_engine, upgrade
from atlas.core.catalogue.home import Home
from atlas.core.catalogue.licences import spdx_expression
from atlas.core.catalogue.store import Store
from atlas.core.catalogue.tables import Licence, Tag
from atlas.core.errors import AtlasError

# SQLite's wait for another writer: long enough for a script to queue behind a running `atlas run`.
# Someone looking at a screen wants to hear sooner: the TUI opens with a shorter one.
DEFAULT_BUSY_TIMEOUT_S = 30.0


class StoredFile(Protocol):
    """Anything naming a render's file: a `Render`, or a row of `atlas.core.search.rows`."""

    @property
    def store_path(self) -> str | None: ...

    @property
    def linked_path(self) -> str | None: ...


@dataclass
class Catalogue:
    home: Home
    engine: Engine
    store: Store

    @classmethod
    def open(cls, home: Home | str | None = None, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_S) -> "Catalogue":
        """Open (creating if needed) the catalogue and migrate its schema to head. `busy_timeout`:
        seconds a write waits for another writer before it fails (SQLite; others keep their own)."""
        home = home if isinstance(home, Home) else Home.resolve(home)
        if home.database_url_from_env:  # the default URL is a file in the home, made just below
            check_url(home.database_url)
        if home.read_only():
            return cls(home=home, engine=_read_only_engine(home), store=Store(home.store))
        home.create()
        engine = make_engine(home.database_url, busy_timeout=busy_timeout)
        try:
            upgrade(engine)  # writes the built-in licences too
        except DBAPIError as exc:  # not a database, unreachable server, refused login, disk I/O error
            engine.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
            shown = engine.url.render_as_string(hide_password=True)
            raise AtlasError(f"cannot open the catalogue database {shown}: {reason}") from None
        return cls(home=home, engine=engine, store=Store(home.store))

    @contextmanager
    def session(self):
        """A session whose objects stay readable after commit (records are built from them)."""
        try:
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except OperationalError as exc:
            if "readonly database" in str(exc.orig):  # a read-only home: reads work, this write cannot
                raise AtlasError(f"the atlas home {self.home.root} is read-only; this command writes to its "
                                 "catalogue") from None
            raise

    def file_of(self, render: StoredFile) -> Path | None:
        """Where a render's bytes are: in the store, or at the linked source for linked imports."""
        if render.store_path:
            return self.store.path_of(render.store_path)
        return Path(render.linked_path) if render.linked_path else None

    def close(self) -> None:
        self.engine.dispose()


def _read_only_engine(home: Home) -> Engine:
    """The home's SQLite catalogue opened read-only. A WAL database without its -shm file opens only
    as `immutable` (SQLite cannot make the file beside it), which is true of a read-only mount."""
    import sqlite3

    from sqlalchemy import create_engine

    path = home.database_path
    for query in ("mode=ro", "immutable=1"):
        uri = f"file:{path}?{query}"
        try:
            probe = sqlite3.connect(uri, uri=True)
            revision = probe.execute("SELECT version_num FROM alembic_version").fetchone()
            probe.close()
        except sqlite3.Error:
            continue
        if revision is None or revision[0] != HEAD:
            raise AtlasError(f"the atlas home {home.root} is read-only and its catalogue needs an upgrade "
                             f"(at {revision[0] if revision else 'no revision'}, this atlas needs {HEAD})")
        return create_engine("sqlite://", creator=lambda uri=uri: sqlite3.connect(uri, uri=True))
    raise AtlasError(f"the atlas home {home.root} is read-only and its catalogue {path} cannot be opened read-only")


def tags_of(session: Session, render_ids: Iterable[int]) -> dict[int, list[str]]:
    """The tags of each render, sorted by name (renders without tags are left out): one query."""
    ids = list(render_ids)
    found: dict[int, list[str]] = {}
    if ids:
        rows = session.exec(select(Tag.render_id, Tag.name).where(col(Tag.render_id).in_(ids)).order_by(Tag.name))
        for render_id, name in rows:
            found.setdefault(render_id, []).append(name)
    return found


def licence_ref(licence: Licence | None, terms: bool = False) -> dict[str, Any] | None:
    """A licence as records and pages name it; `terms` adds what it says about use and outputs
    (for people reading it on a screen; records do not carry them)."""
    if licence is None:
        return None
    ref: dict[str, Any] = {"id": licence.id, "name": licence.name, "url": licence.url,
           "spdx": spdx_expression(licence), "commons_template": licence.commons_template}
    if terms:
        ref.update(summary=licence.summary, output_rights=licence.output_rights,
                   restrictions=list(licence.restrictions or []))
    return ref
