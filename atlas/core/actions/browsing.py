"""The TUI's catalogue and its pages of rows: the first screen drawn without loading SQLAlchemy.

`DeferredCatalogue` stands in for a `Catalogue` whose SQLite file is already at the schema head: the
results table's pages and counts are read with the standard library's sqlite3 (`search/plain.py`,
the read path of `atlas search`), and the SQLAlchemy `Catalogue` (~0.5 s to import and open) is
opened only when something else needs it, or by `warm()` in a thread once the first screen is up.
`page`, `count` and `check_query` take either kind; a plain `Catalogue` (PostgreSQL, the tests'
catalogues) is read through `actions/listing.py`. Both paths give the same rows
(tests/test_tui_start.py).
"""

import threading
from pathlib import Path
from typing import Any

from atlas.core.catalogue.home import Home
from atlas.core.catalogue.reader import open_reader, reader_disabled
from atlas.core.search import plain
from atlas.core.search.parse import Query, parse
from atlas.core.search.row import PAGE_SIZE, Row

__all__ = ["PAGE_SIZE", "DeferredCatalogue", "Row", "check_query", "count", "page", "readable"]


class DeferredCatalogue:
    """A `Catalogue` opened on first use; until then (and for pages and counts) a sqlite3 reader.

    Any attribute other than its own is the real catalogue's (opened then), so the use cases in
    `atlas.core.actions` take it as they take a `Catalogue`."""

    def __init__(self, home: Home, busy_timeout: float):
        self.home = home
        self.busy_timeout = busy_timeout
        self._catalogue: Any = None
        self._lock = threading.Lock()
        self._warming = False
        self._store: Path | None = None

    def reader(self):
        """A new read-only sqlite3 connection (the caller closes it), or None once the file is not
        at the schema head any more. One per call: workers run in threads of their own."""
        return None if reader_disabled() else open_reader(self.home)

    def opened(self):
        """The SQLAlchemy `Catalogue`, opened once (whichever thread asks first)."""
        with self._lock:
            if self._catalogue is None:
                from atlas.core.catalogue import Catalogue

                self._catalogue = Catalogue.open(self.home, self.busy_timeout)
            return self._catalogue

    def warm(self) -> None:
        """Open the catalogue in a background thread (once), so the first action does not wait for it."""
        if self._warming:
            return
        self._warming = True
        threading.Thread(target=self._open_quietly, name="atlas-open-catalogue", daemon=True).start()

    def _open_quietly(self) -> None:
        try:
            self.opened()
        except Exception:  # the first real use opens it again, and its caller reports the error
            pass

    def file_of(self, render) -> Path | None:
        """Where a render's (or row's) bytes are, as `Catalogue.file_of` says, without opening the
        catalogue: the preview pane asks it for the first screen's first row."""
        if self._store is None:
            self._store = self.home.store
        return plain.file_of(self._store, render)

    def close(self) -> None:
        with self._lock:
            if self._catalogue is not None:
                self._catalogue.close()
                self._catalogue = None

    def __getattr__(self, name: str):
        # copy/pickle probes; a half-built instance
        if name.startswith("__") or name in ("_catalogue", "_lock", "_warming", "_store"):
            raise AttributeError(name)
        return getattr(self.opened(), name)


def readable(home: Home) -> bool:
    """Whether the TUI can start on the sqlite3 reader: a SQLite catalogue at the schema head."""
    if reader_disabled():
        return False
    connection = open_reader(home)
    if connection is None:
        return False
    connection.close()
    return True


def _listing():
    from atlas.core.actions import listing  # the SQLAlchemy path, loaded only when taken

    return listing


def _reader(catalogue):
    return catalogue.reader() if isinstance(catalogue, DeferredCatalogue) else None


def page(catalogue, text: str | Query = "", offset: int = 0, limit: int = PAGE_SIZE, sort: str | None = None,
         descending: bool = True) -> list[Row]:
    """`listing.page`, on the sqlite3 reader when `catalogue` has one."""
    connection = _reader(catalogue)
    if connection is None:
        return _listing().page(catalogue, text, offset, limit, sort, descending)
    try:
        return plain.page(connection, text, offset, limit, sort, descending)
    finally:
        connection.close()


def count(catalogue, text: str | Query = "") -> int:
    """`listing.count`, on the sqlite3 reader when `catalogue` has one."""
    connection = _reader(catalogue)
    if connection is None:
        return _listing().count(catalogue, text)
    try:
        return plain.count(connection, text)
    finally:
        connection.close()


def check_query(text: str) -> None:
    """Raise the query language's `QuerySyntaxError` (with `.token` and `.column`) for bad `text`."""
    parse(text)
