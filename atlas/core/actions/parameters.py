"""A render's generation parameters as A1111 writes them, for pasting into another tool."""

from atlas.core.catalogue import Catalogue
from atlas.core.errors import BadInput
from atlas.core.files.embed import parameters_text
from atlas.core.record.build import build, get_render


def a1111_parameters(catalogue: Catalogue, render_id: int | str) -> str:
    """The A1111 `parameters` text of a render, exactly as written into its PNG."""
    with catalogue.session() as session:
        record = build(session, get_render(session, render_id))
    if not record["lineage"]:
        raise BadInput(f"render {render_id} has no recorded pass, so no parameters")
    return parameters_text(record)
