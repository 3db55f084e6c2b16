"""Renders a page at a time: `atlas list`, `atlas search` and the TUI's results table.

All three read `atlas.core.search.rows`: one row shape, one query per page.
"""

from atlas.core.catalogue import Catalogue
from atlas.core.search import rows
from atlas.core.search.parse import Query, parse
from atlas.core.search.rows import PAGE_SIZE, Row

__all__ = ["PAGE_SIZE", "Row", "check_query", "count", "page", "summaries"]

# What `atlas list --json` prints of each row.
LIST_KEYS = ("id", "created", "width", "height", "kind", "prompt", "seed", "licence", "sha256")


def check_query(text: str) -> None:
    """Raise the query language's `QuerySyntaxError` (with `.token` and `.column`) for bad `text`."""
    parse(text)


def page(catalogue: Catalogue, text: str | Query = "", offset: int = 0, limit: int = PAGE_SIZE,
         sort: str | None = None, descending: bool = True, tags: bool = False) -> list[Row]:
    """Rows `offset`..`offset+limit` of the renders matching `text` (newest first unless the query
    or a column `sort` says otherwise): one query, so a page costs the same on 100 or 100,000 renders."""
    with catalogue.session() as session:
        return rows.page(session, text, offset, limit, sort, descending, tags)


def count(catalogue: Catalogue, text: str | Query = "") -> int:
    """How many renders match `text` (all renders when it is empty)."""
    with catalogue.session() as session:
        return rows.count(session, text)


def summaries(catalogue: Catalogue, text: str | Query = "", limit: int = 50, offset: int = 0) -> list[dict]:
    """The matching renders as the flat dicts `atlas search` prints, tags included."""
    return [rows.summary(row, catalogue.file_of(row))
            for row in page(catalogue, text, offset, limit, tags=True)]


def newest(catalogue: Catalogue, limit: int = 50) -> list[dict]:
    """The newest renders as `atlas list` prints them."""
    return [{key: item[key] for key in LIST_KEYS}
            for item in (rows.summary(row, catalogue.file_of(row)) for row in page(catalogue, "", 0, limit))]
