"""Tagging renders: `atlas tag 12 15 +best -wip` and the TUI's tag dialog ("best -wip")."""

from atlas.core.catalogue import Catalogue, tags_of
from atlas.core.catalogue.retry import retried_on_conflict
from atlas.core.catalogue.tables import flushed_id
from atlas.core.errors import BadInput
from atlas.core.record.build import get_render
from atlas.core.record.tags import check_tag, set_tags


def split_words(words: str) -> tuple[list[str], list[str]]:
    """"city night -draft" -> (["city", "night"], ["draft"]): what to add and what to remove."""
    add = [check_tag(w) for w in words.split() if not w.startswith("-")]
    remove = [check_tag(w[1:]) for w in words.split() if w.startswith("-")]
    if not add and not remove:
        raise BadInput("no tags given (write `name` to add, `-name` to remove)")
    return add, remove


@retried_on_conflict
def tag(catalogue: Catalogue, render_ids: list[int], add=(), remove=()) -> dict[int, list[str]]:
    """Add and remove tags on every render (nothing changes unless every id exists); returns each
    render's tags after, sorted. With nothing to add or remove it only reads them."""
    with catalogue.session() as session:
        renders = [flushed_id(get_render(session, render_id)) for render_id in render_ids]
        if add or remove:
            for render_id in renders:
                set_tags(session, render_id, add=add, remove=remove)
            session.commit()
        found = tags_of(session, renders)
    return {render_id: found.get(render_id, []) for render_id in renders}
