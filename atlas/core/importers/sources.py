"""Where a pass's input comes from: a render id, or an image file imported first (so the lineage
starts at the file, with whatever prompt and settings its metadata holds)."""

from pathlib import Path

from atlas.core.catalogue import Catalogue
from atlas.core.errors import BadInput, NotFound
from atlas.core.record.build import get_render


def resolve(catalogue: Catalogue, source: str | int) -> int:
    """The render id for SRC: an existing render id, else a file path (imported; a file whose
    sha256 is already catalogued gives that render)."""
    text = str(source)
    path = Path(text).expanduser()
    if text.isdigit() and not path.exists():
        with catalogue.session() as session:
            try:
                return _saved_id(get_render(session, text))
            except NotFound:
                raise NotFound(f"no render with id {text} (and no file of that name)") from None
    if not path.is_file():
        raise BadInput(f"{text}: neither a render id nor an image file")
    from atlas.core.importers.batch import import_file

    return _saved_id(import_file(catalogue, path))


def _saved_id(render) -> int:
    assert render.id is not None  # a render read from or written to the catalogue has its id
    return render.id
