"""The write path: a pass is recorded before work starts and finished with its output render.

A pass is committed as `running` first, so a crash leaves an honest trace; its output file enters
the store only together with the catalogue rows that point at it, and is removed again if the
commit fails, so the store never holds an orphan.
"""

import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.retry import retried_transaction
from atlas.core.catalogue.tables import Pass, Render, Run, flushed_id, utcnow
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
        step.render_id, step.status, step.ended = render.id, "completed", utcnow()
        session.flush()
        record = build(session, render)
        validate(record)
        data = embed_png(png_data, record)
        data = sign_render(catalogue, data, record, step.input_render_id)
        digest, rel, created = catalogue.store.put(data, "png")
        try:
            render.sha256, render.store_path, render.size_bytes = digest, rel, len(data)
            set_tags(session, flushed_id(render), add=info.tags)
            session.commit()
        except BaseException:
            if created:
                catalogue.store.remove(rel)
            raise
        return render
