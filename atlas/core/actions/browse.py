"""Read helpers for browsing the catalogue a page at a time (the TUI's data source, no UI in here).

A page is a list of `Row`s: one render with the facts of the pass that produced it, fetched with
one joined query, so a screen of a 100,000-render catalogue costs one indexed query, never a scan
of the whole table into memory.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Licence, Render, Run
from atlas.core.errors import AtlasError, BadInput
from atlas.core.files import png
from atlas.core.record.build import describe, get_render, lineage
from atlas.core.search import sql as search
from atlas.core.search.parse import parse

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
            if fh.read(8) != png.SIGNATURE:
                return "unknown (not a PNG)"
            for span, _ in png.scan_file(fh, str(path), check_crc=False):  # image data is skipped, not read
                if span.type == b"caBX":
                    return "signed (checking the signature…)"
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    except BadInput:
        pass  # a broken PNG: what it holds after the break is unknown; `verify` reports the damage
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


class MissingFile(AtlasError):
    """A render whose file is gone from the store (or a linked source that moved)."""


def short_busy_timeout(catalogue: Catalogue, seconds: float) -> None:
    """Make a write wait at most `seconds` for another writer (the default is 30 s: fine for a
    script, far too long for someone looking at a screen). SQLite only; others keep theirs."""
    if catalogue.engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(catalogue.engine, "connect")
    def _busy(dbapi_conn, _record):
        dbapi_conn.execute(f"PRAGMA busy_timeout={int(seconds * 1000)}")

    catalogue.engine.dispose()  # pooled connections were made before the listener


def export_render(catalogue: Catalogue, render_id: int, to_dir: Path) -> tuple[list[dict], str | None]:
    """Export one render upload-ready into `to_dir` (`atlas.core.commons.export`); returns the export rows
    and the Commons page that was written."""
    from atlas.core.commons import export
    with catalogue.session() as session:
        get_render(session, render_id)
    to_dir = Path(to_dir).expanduser()
    if to_dir.exists() and not to_dir.is_dir():
        raise BadInput(f"{to_dir} exists and is not a folder")
    rows = export.export(catalogue, [render_id], to_dir)
    pages = [Path(row["wikitext"]) for row in rows if row.get("wikitext")]
    page_text = pages[0].read_text(encoding="utf-8") if pages and pages[0].is_file() else None
    return rows, page_text


def wikitext(catalogue: Catalogue, render_id: int) -> str:
    """The Commons description page of a render, with the home's config and template overrides."""
    from atlas.core.commons import page as commons
    config = catalogue.home.config()
    with catalogue.session() as session:
        return commons.page(session, get_render(session, render_id), config,
                            user_templates=catalogue.home.templates)


def verify(catalogue: Catalogue, render_id: int) -> list[str]:
    """Problems with a render's file, empty when it is sound (issue 3's `verify_render`: sha256,
    embedded record and parameters against the catalogue, C2PA signature)."""
    from atlas.core.actions.verify import verify_render

    return verify_render(catalogue, render_id)


def c2pa_description(catalogue: Catalogue, render_id: int) -> str:
    """The C2PA state of a render's file in words: validated against the home's trust anchor,
    with the signer. Reads and checks the manifest, so callers run it off the UI thread."""
    from atlas.core.files import credentials
    from atlas.core.trust.keys import trust_anchor

    try:
        path = file_path(catalogue, render_id)
    except MissingFile:
        return "file missing"
    with catalogue.session() as session:
        fmt = get_render(session, render_id).format
    found = credentials.read(path, trust_anchor(catalogue.home), credentials.MIME.get(fmt))
    if found is None:
        return "not signed"
    state = found["validation_state"]
    manifest = (found.get("manifests") or [{}])[0]
    signer = f", signed by {manifest['signer']}" if manifest.get("signer") else ""
    issuer = f" (issuer {manifest['issuer']})" if manifest.get("issuer") else ""
    chain = f", {len(found['manifests'])} manifests in the chain" if len(found.get("manifests", [])) > 1 else ""
    failures = f"; {'; '.join(found['failures'][:3])}" if found["failures"] else ""
    return f"{state}{signer}{issuer}{chain}{failures}"


def a1111_parameters(catalogue: Catalogue, render_id: int) -> str:
    """The A1111 `parameters` text of a render, exactly as written into its PNG."""
    from atlas.core.files.embed import parameters_text
    from atlas.core.record.build import build

    with catalogue.session() as session:
        record = build(session, get_render(session, render_id))
    if not record["lineage"]:
        raise BadInput(f"render {render_id} has no recorded pass, so no parameters")
    return parameters_text(record)


def tag(catalogue: Catalogue, render_id: int, words: str) -> list[str]:
    """Apply `words` ("city night -draft": add two, remove one); returns the render's tags after."""
    from atlas.core.catalogue.tables import Tag
    from atlas.core.record.tags import set_tags

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
    """What re-running a render with a new seed means (the seed itself is the caller's choice).

    A single-pass txt2img render gives its txt2img settings; the final render of a recipe run gives
    the run's recipe (`{"recipe": ..., "recipe_name": ...}`), so the whole chain is made again.
    """
    from atlas.core.record.build import build

    with catalogue.session() as session:
        render = get_render(session, render_id)
        run = session.exec(select(Run).where(Run.final_render_id == render_id)).first()
        if run is not None:
            return {"recipe": run.recipe, "recipe_name": run.recipe_name, "run_id": run.id,
                    "title": render.title, "author": render.author, "licence": render.licence_id}
        record = build(session, render)
    lineage = record["lineage"]
    if len(lineage) != 1 or lineage[0]["kind"] != "txt2img":
        kinds = " -> ".join(step["kind"] for step in lineage) or "no pass"
        raise BadInput(f"render {render_id} was made by {kinds} outside a recipe run; only a txt2img render "
                       "or the final render of a recipe run can be re-run")
    step, render = lineage[0], record["render"]
    return {"title": render.get("title"), "author": render.get("author"),
            "licence": (render.get("licence") or {}).get("id"), "prompt": step["prompt"],
            "negative_prompt": step["negative_prompt"], "steps": step["steps"],
            "sampler": step["sampler"], "cfg": step["cfg"], "width": step["width"], "height": step["height"],
            "model": (step.get("model") or {}).get("name")}
