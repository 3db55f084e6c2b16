"""`atlas init`: the home and its catalogue made ready, and where they are."""

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.licences import sync_builtin


def initialise(catalogue: Catalogue) -> dict:
    """Refresh the built-in licences (a catalogue made by an older atlas may lack new ones) and
    name the home, the database and the store."""
    with catalogue.session() as session:
        sync_builtin(session)
        session.commit()
    return {"home": str(catalogue.home.root), "database": catalogue.engine.url.render_as_string(),
            "store": str(catalogue.store.root)}
