"""`atlas search` and `atlas list` answered from the home, on the fastest path that can answer.

A SQLite catalogue at the schema head is read with the standard library's sqlite3
(`catalogue/reader.py`, `search/plain.py`): a cold `atlas search` then never loads SQLAlchemy.
Any other catalogue is opened as a `Catalogue` and read through `actions/listing.py`; both give the
same rows (tests/test_plain_search.py).
"""

from collections.abc import Callable
from typing import Any, TypeVar

from atlas.core.catalogue.home import Home
from atlas.core.catalogue.reader import open_reader, reader_disabled
from atlas.core.search import plain
from atlas.core.search.parse import Query
from atlas.core.search.row import summary

T = TypeVar("T")
# What `atlas list --json` prints of each row.
LIST_KEYS = ("id", "created", "width", "height", "kind", "prompt", "seed", "licence", "sha256")


def _answer(home_option: str | None, fast: Callable[[Any, Home], T], slow: Callable[[Any], T]) -> T:
    home = Home.resolve(home_option)
    connection = None if reader_disabled() else open_reader(home)
    if connection is None:
        from atlas.core.catalogue import Catalogue

        catalogue = Catalogue.open(home)
        try:
            return slow(catalogue)
        finally:
            catalogue.close()
    try:
        return fast(connection, home)
    finally:
        connection.close()


def summaries(home: str | None, query: str | Query = "", limit: int = 50, offset: int = 0) -> list[dict]:
    """The renders matching `query` as the flat dicts `atlas search` prints, tags included."""
    def fast(connection, opened: Home) -> list[dict]:
        store = opened.store
        return [summary(row, plain.file_of(store, row))
                for row in plain.page(connection, query, offset, limit, tags=True)]

    return _answer(home, fast, lambda catalogue: _listing().summaries(catalogue, query, limit, offset))


def count(home: str | None, query: str | Query = "") -> int:
    """How many renders match `query`."""
    return _answer(home, lambda connection, _: plain.count(connection, query),
                   lambda catalogue: _listing().count(catalogue, query))


def _listing():
    from atlas.core.actions import listing  # the SQLAlchemy path, loaded only when taken

    return listing


def show(home: str | None, render_id: int | str) -> dict:
    """What `atlas show --json` prints (`actions.detail.show`)."""
    from atlas.core.record import plain as record

    def slow(catalogue) -> dict:
        from atlas.core.actions import detail

        return detail.show(catalogue, render_id)

    return _answer(home, lambda connection, opened: record.describe(connection, opened.store, render_id), slow)


def newest(home: str | None, limit: int = 50) -> list[dict]:
    """The newest renders as `atlas list` prints them."""
    return [{key: item[key] for key in LIST_KEYS} for item in summaries(home, "", limit)]
