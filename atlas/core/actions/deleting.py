"""Deleting renders from the catalogue: `atlas delete` and the TUI's delete (both confirm first).

A render goes with its tags and the passes that made it (and any failed attempt made from it);
a run that ended in it keeps its row, without a final render. Its stored file is removed after
the commit when no row names it any more; a linked import's file is the user's and stays.

A render that other renders were made from is refused unless they are deleted with it: their
lineage (and the provenance embedded in their files) would otherwise name a render that is gone.
"""

from dataclasses import dataclass

from sqlmodel import Session, col, select, update
from sqlmodel import delete as delete_rows

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.retry import retried_transaction
from atlas.core.catalogue.tables import Pass, Render, Run, Tag
from atlas.core.errors import BadInput
from atlas.core.record.build import get_render


class HasDescendants(BadInput):
    """Renders were made from one being deleted, and they are not deleted with it."""


@dataclass(frozen=True)
class Plan:
    """What deleting `render_ids` removes: what a confirmation shows."""

    render_ids: tuple[int, ...]
    files: tuple[str, ...]  # store paths that no remaining row names, removed after the commit
    linked: tuple[str, ...]  # linked sources, left where they are


def _plan(session: Session, render_ids: list[int]) -> Plan:
    renders = {}
    for render_id in render_ids:
        render = get_render(session, render_id)
        renders[int(render.id or 0)] = render
    ids = list(renders)
    made_from = session.exec(select(Pass.render_id, Pass.input_render_id, Pass.status).where(
        col(Pass.input_render_id).in_(ids))).all()
    kept = sorted({child for child, _, _ in made_from if child is not None and child not in renders})
    running = sorted({int(parent or 0) for child, parent, status in made_from if status == "running" and child is None})
    if kept:
        raise HasDescendants(f"renders {', '.join(map(str, kept))} were made from the renders to delete; "
                             "delete them too (name them in the same command) or keep these")
    if running:
        raise BadInput(f"a pass is running from render {running[0]}: wait for it to end")
    stored = sorted({r.store_path for r in renders.values() if r.store_path})
    shared = set(session.exec(select(Render.store_path).where(
        col(Render.store_path).in_(stored), col(Render.id).not_in(ids))).all())
    return Plan(tuple(ids), tuple(p for p in stored if p not in shared),
                tuple(sorted({r.linked_path for r in renders.values() if r.linked_path and not r.store_path})))


def plan(catalogue: Catalogue, render_ids: list[int]) -> Plan:
    """What `delete` would remove, checked as `delete` checks it (NotFound, HasDescendants)."""
    with catalogue.session() as session:
        return _plan(session, render_ids)


@retried_transaction
def delete(catalogue: Catalogue, render_ids: list[int]) -> Plan:
    """Delete the renders (all or none) and then their files that no other row names."""
    with catalogue.session() as session:
        found = _plan(session, render_ids)
        ids = list(found.render_ids)
        session.execute(delete_rows(Tag).where(col(Tag.render_id).in_(ids)))
        session.execute(update(Run).where(col(Run.final_render_id).in_(ids)).values(final_render_id=None))
        # Failed attempts made from these renders have no output to keep; the rest were checked above.
        session.execute(delete_rows(Pass).where(col(Pass.input_render_id).in_(ids)))
        session.execute(delete_rows(Pass).where(col(Pass.render_id).in_(ids)))
        session.execute(delete_rows(Render).where(col(Render.id).in_(ids)))
        session.commit()
    for store_path in found.files:
        catalogue.store.remove(store_path)
    return found
