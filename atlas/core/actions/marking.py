"""A person's judgement of renders: `atlas rate`, `atlas hide`/`unhide` and the TUI's keys for them.

A rating is 1..5 stars (0 takes it away: the render is unrated again, NULL, which `rating:` never
matches). A hidden render stays in the catalogue, its file in the store, and is left out of every
search that does not name `hidden` (`search.parse.Query.shows_hidden`).
"""

from sqlmodel import col, update

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.retry import retried_transaction
from atlas.core.catalogue.tables import Render
from atlas.core.errors import BadInput
from atlas.core.record.build import get_render

MAX_RATING = 5


def check_rating(stars: int | str) -> int:
    """`stars` as a whole number 0..5, or BadInput saying what is allowed."""
    try:
        value = int(stars)
    except (TypeError, ValueError):
        raise BadInput(f"a rating is a whole number of stars, 0 to {MAX_RATING}, got {stars!r}") from None
    if not 0 <= value <= MAX_RATING:
        raise BadInput(f"a rating is 0 to {MAX_RATING} stars (0 takes it away), got {value}")
    return value


@retried_transaction
def rate(catalogue: Catalogue, render_ids: list[int], stars: int) -> dict[int, int | None]:
    """Give every render `stars` (0: unrated); nothing changes unless every id exists.
    Returns each render's rating after."""
    value = check_rating(stars) or None
    return _set(catalogue, render_ids, rating=value)


@retried_transaction
def hide(catalogue: Catalogue, render_ids: list[int], hidden: bool = True) -> dict[int, bool]:
    """Hide (or with `hidden=False` show again) every render; nothing changes unless every id exists."""
    return _set(catalogue, render_ids, hidden=hidden)


def _set(catalogue: Catalogue, render_ids: list[int], **values) -> dict:
    (value,) = values.values()
    with catalogue.session() as session:
        ids = list(dict.fromkeys(int(get_render(session, render_id).id or 0) for render_id in render_ids))
        session.execute(update(Render).where(col(Render.id).in_(ids)).values(**values))
        session.commit()
    return dict.fromkeys(ids, value)
