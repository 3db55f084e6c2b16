"""Tags on renders."""

from sqlmodel import Session, col, delete

from atlas.core.catalogue.tables import Tag
from atlas.core.errors import BadInput


def check_tag(name: str) -> str:
    name = name.strip()
    if not name or any(ch.isspace() for ch in name) or len(name) > 100:
        raise BadInput(f"a tag is 1-100 characters without spaces, got {name!r}")
    return name


def set_tags(session: Session, render_id: int, add=(), remove=()) -> None:
    for name in remove:
        session.exec(delete(Tag).where(col(Tag.render_id) == render_id, col(Tag.name) == check_tag(name)))
    for name in add:
        name = check_tag(name)
        if session.get(Tag, (render_id, name)) is None:
            session.add(Tag(render_id=render_id, name=name))
