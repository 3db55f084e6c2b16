"""The provenance record of a render: built from the catalogue, embedded in files, compared by verify.

One builder serves `atlas show --json`, the PNG provenance chunk and `atlas verify`, so the three
cannot disagree about what the record is.
"""

from sqlmodel import Session, select

from atlas.core.catalogue import Catalogue, licence_ref, tables, tags_of
from atlas.core.catalogue.tables import Licence, Model, Pass, Render, Run, flushed_id, produces_render
from atlas.core.errors import AtlasError, NotFound
from atlas.core.record.shape import RECORD_VERSION, timestamp
from atlas.core.settings import MAX_INT


def model_ref(session: Session, model_id: int | None) -> dict | None:
    if model_id is None:
        return None
    model = session.get(Model, model_id)
    if model is None:  # the foreign key forbids it; a database edited by hand may not
        raise AtlasError(f"the catalogue names model {model_id}, which it does not hold")
    return {"name": model.name, "kind": model.kind, "source": model.source, "format": model.format,
            "sha256": model.sha256, "short_hash": model.short_hash, "demo": model.demo,
            "licence": licence_ref(session.get(Licence, model.licence_id))}


def producing_pass(session: Session, render_id: int) -> Pass | None:
    return session.exec(
        select(Pass).where(Pass.render_id == render_id, produces_render(Pass))
    ).first()


def lineage(session: Session, render: Render) -> list[Pass]:
    """The passes that led to `render`, oldest first."""
    chain: list[Pass] = []
    seen: set[int] = set()
    current: int | None = render.id
    while current is not None and current not in seen:
        seen.add(current)
        step = producing_pass(session, current)
        if step is None:
            break
        chain.append(step)
        current = step.input_render_id
    chain.reverse()
    return chain


def pass_record(session: Session, step: Pass, refs: dict | None = None) -> dict:
    """One pass of the record; `refs` memoises model references across the passes of one record."""
    refs = {} if refs is None else refs

    def ref(model_id):
        if model_id not in refs:
            refs[model_id] = model_ref(session, model_id)
        return refs[model_id]

    source = session.get(Render, step.input_render_id) if step.input_render_id else None
    output = session.get(Render, step.render_id) if step.render_id else None
    duration = (step.ended - step.started).total_seconds() if step.ended else None
    entry = {
        "kind": step.kind, "status": step.status,
        "prompt": step.prompt, "negative_prompt": step.negative_prompt,
        "seed": step.seed, "sampler": step.sampler, "steps": step.steps, "steps_run": step.steps_run,
        "cfg": step.cfg, "width": step.width, "height": step.height, "denoise": step.denoise,
        "settings": step.settings,
        "model": ref(step.model_id),
        "upscaler": ref(step.upscaler_id),
        "software": step.software, "device": step.device,
        "started": timestamp(step.started), "ended": timestamp(step.ended),
        "duration_s": round(duration, 3) if duration is not None else None,
        "input": ({"width": source.width, "height": source.height, "sha256": source.sha256}
                  if source else None),
        "output": ({"width": output.width, "height": output.height} if output
                   else {"width": step.width or 1, "height": step.height or 1}),
        "tool": output.tool if output else "atlas",
        "run": {"id": step.run_id, "position": step.position} if step.run_id else None,
    }
    if step.raw_metadata is not None:
        entry["raw_metadata"] = step.raw_metadata
    return entry


def catalogue_id(session: Session) -> str | None:
    """This catalogue's uuid (made once by migration 0005), read once per session; None for a
    read-only home whose catalogue predates it (it cannot be upgraded there)."""
    if "catalogue_id" not in session.info:
        from sqlalchemy.exc import OperationalError

        try:
            session.info["catalogue_id"] = session.exec(select(tables.CatalogueIdentity.uuid)).first()
        except OperationalError:  # no such table: a read-only catalogue of an earlier schema
            session.rollback()
            session.info["catalogue_id"] = None
    return session.info["catalogue_id"]


def build(session: Session, render: Render) -> dict:
    """The provenance record of `render` (validated against schemas/provenance on write and read)."""
    chain = lineage(session, render)
    refs: dict = {}
    last = chain[-1] if chain else None
    run = session.get(Run, last.run_id) if last is not None and last.run_id else None
    identity = catalogue_id(session)
    return {
        "atlas_record": RECORD_VERSION,
        # Which catalogue the render id below belongs to (see `atlas verify`).
        **({"catalogue": identity} if identity else {}),
        "render": {
            "id": render.id, "title": render.title, "description": render.description,
            "author": render.author, "created": timestamp(render.created),
            "width": render.width, "height": render.height, "format": render.format,
            "tool": render.tool,
            "licence": licence_ref(session.get(Licence, render.licence_id) if render.licence_id else None),
        },
        # A lineage uses one or two models: each is read once, not once per pass (17 in the reference).
        "lineage": [pass_record(session, step, refs) for step in chain],
        # The run's status is left out: it changes after the file is written (running -> completed),
        # and the embedded record must stay equal to the catalogue's for `verify`.
        "run": ({"id": run.id, "recipe_name": run.recipe_name} if run else None),
    }


def validate(record: dict) -> None:
    from atlas.core.schemas import validate as check

    check("provenance", record, what="provenance record")


def get_render(session: Session, render_id: int | str) -> Render:
    try:
        key = int(render_id)
    except (TypeError, ValueError):
        raise NotFound(f"render id must be a number, got {render_id!r}") from None
    if not 0 < key <= MAX_INT:  # beyond 64 bits the database driver would raise, not answer
        raise NotFound(f"no render with id {key}")
    render = session.get(Render, key)
    if render is None:
        raise NotFound(f"no render with id {key}")
    return render


def describe(session: Session, render: Render, catalogue: Catalogue) -> dict:
    """What `atlas show --json` prints: catalogue facts around the provenance record.

    The rating and hidden flag are a curator's judgement, catalogue state like the tags: they sit
    here, beside the record, never in it, so no file written or exported carries them and a new
    rating does not make `atlas verify` find the embedded record out of date."""
    path, render_id = catalogue.file_of(render), flushed_id(render)
    return {"id": render_id, "sha256": render.sha256, "path": str(path) if path else None,
            "size_bytes": render.size_bytes, "tags": tags_of(session, [render_id]).get(render_id, []),
            "rating": render.rating, "hidden": bool(render.hidden), "record": build(session, render)}
