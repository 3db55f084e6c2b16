"""One render in full: the facts `atlas show` prints, the TUI's detail screen, and its file."""

from pathlib import Path

from atlas.core.actions.c2pa import c2pa_state
from atlas.core.catalogue import Catalogue, licence_ref
from atlas.core.catalogue.tables import Licence
from atlas.core.errors import AtlasError
from atlas.core.record.build import describe, get_render, lineage


class MissingFile(AtlasError):
    """A render whose file is gone from the store (or a linked source that moved)."""


def show(catalogue: Catalogue, render_id: int | str) -> dict:
    """What `atlas show --json` prints: the provenance record with the file, size and tags."""
    with catalogue.session() as session:
        return describe(session, get_render(session, render_id), catalogue)


def detail(catalogue: Catalogue, render_id: int | str) -> dict:
    """`show()` plus what a person browsing wants beside it: the models' licences with their
    terms, whether the file is present, its C2PA state and the render each pass produced."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
        facts = describe(session, render, catalogue)
        pass_renders = [step.render_id for step in lineage(session, render)]
        # The licences the lineage's models are under, in the order the lineage names them.
        ids = list(dict.fromkeys(ref["licence"]["id"] for step in facts["record"]["lineage"]
                                 for ref in (step.get("model"), step.get("upscaler")) if ref and ref["licence"]))
        licences = [licence_ref(session.get(Licence, i), terms=True) for i in ids]
    path = Path(facts["path"]) if facts["path"] else None
    facts["exists"] = bool(path and path.exists())
    facts["c2pa"] = c2pa_state(path)
    facts["model_licences"] = licences
    facts["pass_renders"] = pass_renders  # the render each lineage pass produced, oldest first
    return facts


def file_path(catalogue: Catalogue, render_id: int | str) -> Path:
    """The file of a render; `MissingFile` when the store has lost it."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
    path = catalogue.file_of(render)
    if path is None or not path.is_file():
        raise MissingFile(f"render {render_id}: its file is missing from the store ({path or ''})")
    return path
