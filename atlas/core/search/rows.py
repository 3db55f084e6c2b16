"""A render with the pass that produced it, as one row: the shape `atlas list`, `atlas search` and
the TUI's results table all show, read with one joined query per page.

A page costs one indexed query (plus one for its tags when asked), however large the catalogue and
however many rows are shown: never a query per row, never the whole table in memory.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Label, func, select
from sqlmodel import Session, col

from atlas.core.catalogue import tags_of
from atlas.core.catalogue.tables import Render
from atlas.core.search import sql
from atlas.core.search.fields import FIELDS, Producer, ProducerModel
from atlas.core.search.parse import Query, parse

PAGE_SIZE = 100


@dataclass(frozen=True)
class Row:
    id: int
    created: datetime
    width: int
    height: int
    model: str | None
    sampler: str | None
    steps: int | None
    cfg: float | None
    seed: int | None
    licence: str | None
    prompt: str
    kind: str | None
    negative_prompt: str
    denoise: float | None
    format: str
    tool: str
    author: str | None
    sha256: str
    store_path: str | None  # the file, as `Catalogue.file_of` reads it
    linked_path: str | None
    tags: tuple[str, ...] = ()  # filled only when `page` is asked for them


# Sortable columns: column key -> SQL expression over the search statement's tables
# (the render, its producing pass `Producer` and that pass's model `ProducerModel`), from the field registry.
SORT_FIELDS = {key: FIELDS[key].sort_key
               for key in ("id", "created", "size", "model", "sampler", "steps", "cfg", "seed", "licence", "prompt")}

# An import pass keeps the model name it found in the file in its settings (no Model row).
_MODEL_NAME = func.coalesce(ProducerModel.name, Producer.settings["model"].as_string())
# Labelled with the names of `Row`'s fields, so a result row maps onto one by name.
ROW_COLUMNS: tuple[Label[Any], ...] = (
    col(Render.id).label("id"), col(Render.created).label("created"), col(Render.width).label("width"),
    col(Render.height).label("height"), _MODEL_NAME.label("model"), col(Producer.sampler).label("sampler"),
    col(Producer.steps).label("steps"), col(Producer.cfg).label("cfg"), col(Producer.seed).label("seed"),
    col(Render.licence_id).label("licence"), col(Producer.prompt).label("prompt"), col(Producer.kind).label("kind"),
    col(Producer.negative_prompt).label("negative_prompt"), col(Producer.denoise).label("denoise"),
    col(Render.format).label("format"), col(Render.tool).label("tool"), col(Render.author).label("author"),
    col(Render.sha256).label("sha256"), col(Render.store_path).label("store_path"),
    col(Render.linked_path).label("linked_path"),
)


def statement(text: str | Query = "", sort: str | None = None, descending: bool = True, dialect: str = "sqlite"):
    """The row query for `text`: the query's own order (default newest first) unless a column
    `sort` is chosen, which then wins over any `sort:` the user typed."""
    stmt = sql.statement(parse(text) if isinstance(text, str) else text, dialect).with_only_columns(*ROW_COLUMNS)
    if sort is not None:
        key = SORT_FIELDS[sort]
        tie = col(Render.id).desc() if descending else col(Render.id).asc()
        stmt = stmt.order_by(None).order_by(key.desc() if descending else key.asc(), tie)
    return stmt


def page(session: Session, text: str | Query = "", offset: int = 0, limit: int = PAGE_SIZE,
         sort: str | None = None, descending: bool = True, tags: bool = False) -> list[Row]:
    """Rows `offset`..`offset+limit` of the renders matching query `text`; `tags` fills each
    row's tags with one more query for the whole page."""
    stmt = statement(text, sort, descending, session.get_bind().dialect.name)
    found = session.execute(stmt.offset(offset).limit(limit)).mappings().all()
    names = tags_of(session, [values["id"] for values in found]) if tags else {}
    return [Row(**{**values, "prompt": values["prompt"] or "", "negative_prompt": values["negative_prompt"] or "",
                   "tags": tuple(names.get(values["id"], ()))}) for values in found]


def count(session: Session, text: str | Query = "") -> int:
    """How many renders match query `text` (all renders when it is empty)."""
    if isinstance(text, str) and not text.strip():  # the common case: no joins needed
        return session.execute(select(func.count()).select_from(Render)).scalar_one()
    return sql.count(session, text)


def summary(row: Row, path: Path | None) -> dict:
    """One row as the flat dict `atlas search --json` prints (`path`: the row's file)."""
    return {
        "id": row.id, "created": row.created.isoformat(), "width": row.width, "height": row.height,
        "format": row.format, "tool": row.tool, "author": row.author, "licence": row.licence, "sha256": row.sha256,
        "path": str(path) if path else None, "kind": row.kind, "prompt": row.prompt,
        "negative_prompt": row.negative_prompt, "seed": row.seed, "sampler": row.sampler, "steps": row.steps,
        "cfg": row.cfg, "denoise": row.denoise, "model": row.model, "tags": list(row.tags),
    }
