"""The write path: a pass is recorded before work starts and finished with its output render.

A pass is committed as `running` first, so a crash leaves an honest trace. Its output's render row,
naming the store path, is committed before the file is written and the pass is completed after
(see `finish_pass`), so every store file a pass writes is named by a row first: a resume removes
exactly its own leftovers, never another writer's file.
"""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlmodel import col, delete

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.retry import retried_transaction
from atlas.core.catalogue.store import relative_path, sha256_bytes
from atlas.core.catalogue.tables import Pass, Render, Run, Tag, flushed_id, utcnow
from atlas.core.files.embed import embed_png
from atlas.core.record.build import build, validate
from atlas.core.trust.signing import sign_render


@dataclass
class RenderInfo:
    """What the user says about an output: its title, description, author and licence."""

    title: str | None = None
    description: str | None = None
    author: str | None = None
    licence_id: str | None = None
    tags: list[str] = field(default_factory=list)
    # Set by `check_licence` once `licence_id` is known to the catalogue (and spelled its way).
    licence_checked: bool = field(default=False, repr=False, compare=False)


def check_licence(catalogue: Catalogue, info: RenderInfo) -> RenderInfo:
    """Refuse an unknown licence before any work starts; checked once per RenderInfo.

    The interfaces call it first (before a model loads); the engine's entry points call it too,
    for callers that did not, and then it costs nothing.
    """
    if not info.licence_checked:
        if info.licence_id:
            from atlas.core.catalogue import licences

            with catalogue.session() as session:
                info.licence_id = licences.get(session, info.licence_id).id
        info.licence_checked = True
    return info


@retried_transaction
def begin_pass(catalogue: Catalogue, step: Pass) -> int:
    step.status, step.started = "running", utcnow()
    with catalogue.session() as session:
        session.add(step)
        session.commit()
        return flushed_id(step)


@contextmanager
def failure_recorded(mark):
    """Call `mark(status, error)` when the block ends in Ctrl-C ("interrupted") or an exception
    ("failed"), then let it propagate: passes and runs record their endings the same way."""
    try:
        yield
    except KeyboardInterrupt:
        mark("interrupted", "interrupted by the user")
        raise
    except BaseException as exc:
        mark("failed", f"{type(exc).__name__}: {exc}")
        raise


@retried_transaction
def fail_pass(catalogue: Catalogue, pass_id: int, status: str, error: str) -> None:
    with catalogue.session() as session:
        step = session.get(Pass, pass_id)
        step.status, step.error, step.ended = status, error, utcnow()
        if step.run_id:
            run = session.get(Run, step.run_id)
            run.status, run.error, run.updated = status, error, utcnow()
        session.commit()


@retried_transaction
def finish_pass(catalogue: Catalogue, pass_id: int, png_data: bytes, width: int, height: int,
                info: RenderInfo, updates: dict | None = None) -> Render:
    """Record the output of pass `pass_id` and store the PNG with its record embedded.

    `updates` are last facts about the pass (steps run, per-tile seeds). C2PA signing comes last
    (signing.sign_render): a pass whose `input_render_id` is set is signed as an edit of that render.

    Three steps, so a crash at any point leaves a trace that names exactly this pass's file:
    1. the render row (with its final sha256 and store path) is committed while the pass is still
       `running` and points at it: the intended store path is recorded before any byte is written;
    2. the file is written into the store (temp file, fsync, link into place);
    3. the pass is marked `completed` (with its tags) in a second commit.
    `atlas run --resume` (runner.clear_leftovers) and `intended_leftovers` below undo a pass killed
    between 1 and 3: they remove the file at its render's store path and that render row.
    """
    from atlas.core.record.tags import set_tags

    with catalogue.session() as session:
        step = session.get(Pass, pass_id)
        for key, value in (updates or {}).items():
            setattr(step, key, value)
        render = Render(sha256=f"pending-{uuid.uuid4().hex}", format="png", width=width, height=height,
                        size_bytes=0, title=info.title, description=info.description, author=info.author,
                        licence_id=info.licence_id, tool="atlas")
        session.add(render)
        session.flush()
        # The record is built as the finished render will read: its producing pass completed.
        ended = utcnow()
        step.render_id, step.status, step.ended = render.id, "completed", ended
        session.flush()
        record = build(session, render)
        validate(record)
        data = embed_png(png_data, record)
        data = sign_render(catalogue, data, record, step.input_render_id, render)
        digest = sha256_bytes(data)
        render.sha256, render.store_path, render.size_bytes = digest, relative_path(digest, "png"), len(data)
        step.status, step.ended = "running", None  # step 1: the intent, committed
        session.commit()
        created = False
        try:
            _digest, _rel, created = catalogue.store.put(data, "png")  # step 2
            step.status, step.ended = "completed", ended  # step 3: as the embedded record says
            set_tags(session, flushed_id(render), add=info.tags)
            session.commit()
        except BaseException:
            session.rollback()
            _undo_intent(catalogue, pass_id, remove_file=created)
            raise
        return render


def _undo_intent(catalogue: Catalogue, pass_id: int, remove_file: bool) -> None:
    """Take back step 1 of `finish_pass` after steps 2-3 failed: the render row goes, the pass stays
    (`failure_recorded` marks it failed), and the file goes if this call created it."""
    with catalogue.session() as session:
        step = session.get(Pass, pass_id)
        render = session.get(Render, step.render_id) if step and step.render_id else None
        if render is None:
            return
        store_path = render.store_path
        step.render_id = None
        session.flush()
        session.delete(render)
        session.commit()
    if remove_file and store_path:
        catalogue.store.remove(store_path)


def intended_leftovers(catalogue: Catalogue, pass_ids) -> list[str]:
    """Undo what passes `pass_ids` (stale: their process is gone) had recorded as intended but never
    completed: each one's render row is deleted and its store file removed. Returns the store paths
    removed. A store path is content-addressed and its bytes embed the render id, so no other row
    can own that file: nothing another writer made is touched."""
    removed = []
    with catalogue.session() as session:
        for pass_id in pass_ids:
            step = session.get(Pass, pass_id)
            if step is None or step.status == "completed" or step.render_id is None:
                continue
            render = session.get(Render, step.render_id)
            step.render_id = None
            session.flush()
            if render is not None:
                if render.store_path:
                    removed.append(render.store_path)
                session.exec(delete(Tag).where(col(Tag.render_id) == render.id))
                session.delete(render)
        session.commit()
    for store_path in removed:
        catalogue.store.remove(store_path)
    return removed
