"""Read helpers for browsing the catalogue a page at a time (the TUI's data source, no UI in here).

A page is a list of `Row`s: one render with the facts of the pass that produced it, fetched with
one joined query, so a screen of a 100,000-render catalogue costs one indexed query, never a scan
of the whole table into memory.
"""

import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from atlas.core import search
from atlas.core.catalogue import Catalogue
from atlas.core.errors import BadInput
from atlas.core.query import parse
from atlas.core.record import describe, get_render, lineage
from atlas.core.tables import Licence, Render

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


# Sortable columns: column key -> SQL expression over the search statement's tables
# (the render, its producing pass `search.Producer` and that pass's model `search.ProducerModel`).
SORT_FIELDS = {
    "id": Render.id,
    "created": Render.created,
    "size": Render.width * Render.height,
    "model": search.ProducerModel.name,
    "sampler": search.Producer.sampler,
    "steps": search.Producer.steps,
    "cfg": search.Producer.cfg,
    "seed": search.Producer.seed,
    "licence": Render.licence_id,
    "prompt": search.Producer.prompt,
}

# An import pass keeps the model name it found in the file in its settings (no Model row).
_MODEL_NAME = func.coalesce(search.ProducerModel.name, search.Producer.settings["model"].as_string())
ROW_COLUMNS = (Render.id, Render.created, Render.width, Render.height, _MODEL_NAME, search.Producer.sampler,
               search.Producer.steps, search.Producer.cfg, search.Producer.seed, Render.licence_id,
               search.Producer.prompt, search.Producer.kind)


def _row(values) -> Row:
    return Row(*values[:10], prompt=values[10] or "", kind=values[11])


def check_query(text: str) -> None:
    """Raise the query language's `QuerySyntaxError` (with `.token` and `.column`) for bad `text`."""
    parse(text)


def statement(text: str = "", sort: str | None = None, descending: bool = True, dialect: str = "sqlite"):
    """The row query for `text`: the query's own order (default newest first) unless a column
    `sort` is chosen, which then wins over any `sort:` the user typed."""
    stmt = search.statement(parse(text), dialect).with_only_columns(*ROW_COLUMNS)
    if sort is not None:
        key = SORT_FIELDS[sort]
        tie = Render.id.desc() if descending else Render.id.asc()
        stmt = stmt.order_by(None).order_by(key.desc() if descending else key.asc(), tie)
    return stmt


def page(session: Session, text: str = "", offset: int = 0, limit: int = PAGE_SIZE,
         sort: str | None = None, descending: bool = True) -> list[Row]:
    """Rows `offset`..`offset+limit` of the renders matching query `text`: one indexed query per
    page, so a screenful costs the same on 100 or 100,000 renders."""
    stmt = statement(text, sort, descending, session.get_bind().dialect.name)
    return [_row(row) for row in session.exec(stmt.offset(offset).limit(limit)).all()]


def count(session: Session, text: str = "") -> int:
    """How many renders match query `text` (all renders when it is empty)."""
    if not text.strip():  # the common case: no joins needed
        return session.exec(select(func.count()).select_from(Render)).one()
    return search.count(session, text)


def lineage_groups(passes: list[dict]) -> list[tuple[str, list[dict]]]:
    """Consecutive passes of the same kind grouped: txt2img, outpaint x14, upscale x2."""
    groups: list[tuple[str, list[dict]]] = []
    for step in passes:
        if groups and groups[-1][0] == step["kind"]:
            groups[-1][1].append(step)
        else:
            groups.append((step["kind"], [step]))
    return groups


def c2pa_state(path: Path | None) -> str:
    """Whether the file carries a C2PA manifest (PNG `caBX` chunk); verifying it is `verify`'s job."""
    if path is None or not path.exists():
        return "file missing"
    try:
        with open(path, "rb") as fh:
            if fh.read(8) != b"\x89PNG\r\n\x1a\n":
                return "unknown (not a PNG)"
            while header := fh.read(8):  # walk chunk headers only: large files are not read
                if len(header) < 8:
                    break
                length, kind = struct.unpack(">I4s", header)
                if kind == b"caBX":
                    return "signed (C2PA manifest present)"
                if kind == b"IEND":
                    break
                fh.seek(length + 4, 1)
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    return "not signed"


def detail(catalogue: Catalogue, render_id: int) -> dict:
    """`describe()` plus what a person browsing wants beside it: licences with their restrictions,
    whether the file is present, its C2PA state and the render ids each pass produced."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
        facts = describe(session, render, catalogue.store.root)
        pass_renders = [step.render_id for step in lineage(session, render)]
        licences = {}
        for step in facts["record"]["lineage"]:
            for ref in (step.get("model"), step.get("upscaler")):
                if ref and ref["licence"] and ref["licence"]["id"] not in licences:
                    licence = session.get(Licence, ref["licence"]["id"])
                    licences[licence.id] = {"id": licence.id, "name": licence.name, "url": licence.url,
                                            "restrictions": list(licence.restrictions),
                                            "output_rights": licence.output_rights}
    path = Path(facts["path"]) if facts["path"] else None
    facts["exists"] = bool(path and path.exists())
    facts["c2pa"] = c2pa_state(path)
    facts["model_licences"] = list(licences.values())
    facts["pass_renders"] = pass_renders  # the render each lineage pass produced, oldest first
    return facts


def file_path(catalogue: Catalogue, render_id: int) -> Path:
    """The file of a render; `NotFound`-style error when the store has lost it."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
    path = catalogue.store.path_of(render.store_path) if render.store_path else Path(render.linked_path or "")
    if not path.is_file():
        raise MissingFile(f"render {render_id}: its file is missing from the store ({path})")
    return path


class MissingFile(BadInput):
    """A render whose file is gone from the store (or a linked source that moved)."""

    exit_code = 1


def a1111_parameters(catalogue: Catalogue, render_id: int) -> str:
    """The A1111 `parameters` text of a render, as written into its PNG."""
    from atlas.core.metadata import infotext
    from atlas.core.metadata.embed import a1111_params
    from atlas.core.record import build

    with catalogue.session() as session:
        record = build(session, get_render(session, render_id))
    if not record["lineage"]:
        raise BadInput(f"render {render_id} has no recorded pass, so no parameters")
    return infotext.write(*a1111_params(record))


def tag(catalogue: Catalogue, render_id: int, words: str) -> list[str]:
    """Apply `words` ("city night -draft": add two, remove one); returns the render's tags after."""
    from atlas.core.tags import set_tags
    from atlas.core.tables import Tag

    add = [w for w in words.split() if not w.startswith("-")]
    remove = [w[1:] for w in words.split() if w.startswith("-")]
    if not add and not remove:
        raise BadInput("no tags given (write `name` to add, `-name` to remove)")
    with catalogue.session() as session:
        get_render(session, render_id)
        set_tags(session, render_id, add=add, remove=remove)
        session.commit()
        return list(session.exec(select(Tag.name).where(Tag.render_id == render_id).order_by(Tag.name)).all())


def rerun_settings(catalogue: Catalogue, render_id: int) -> dict:
    """The txt2img settings of a single-pass txt2img render (a new seed is the caller's choice)."""
    from atlas.core.record import build

    with catalogue.session() as session:
        record = build(session, get_render(session, render_id))
    lineage = record["lineage"]
    if len(lineage) != 1 or lineage[0]["kind"] != "txt2img":
        kinds = " -> ".join(step["kind"] for step in lineage) or "no pass"
        raise BadInput(f"render {render_id} was made by {kinds}; only a txt2img render can be re-run "
                       "here (multi-pass lineages re-run through their recipe)")
    step = lineage[0]
    return {"prompt": step["prompt"], "negative_prompt": step["negative_prompt"], "steps": step["steps"],
            "sampler": step["sampler"], "cfg": step["cfg"], "width": step["width"], "height": step["height"],
            "model": (step.get("model") or {}).get("name")}
