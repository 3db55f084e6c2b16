"""The queue needs the catalogue on PostgreSQL; this module says so, and turns its URL into psycopg's."""

from sqlalchemy.engine import make_url

from atlas.core.catalogue import Catalogue
from atlas.core.errors import BadInput


class QueueNeedsPostgres(BadInput):
    """The catalogue is a SQLite file: there is no server for workers on other machines to share."""


def conninfo(catalogue: Catalogue) -> str:
    """The catalogue's database as a libpq URL (what procrastinate's psycopg connector takes)."""
    url = catalogue.engine.url
    if url.get_backend_name() != "postgresql":
        raise QueueNeedsPostgres(
            "the queue needs the catalogue on PostgreSQL (a server every worker reaches); this catalogue is "
            f"SQLite ({url.database}). Set ATLAS_DATABASE_URL=postgresql+psycopg://USER@HOST/DATABASE, "
            "or render on this machine with `atlas run RECIPE`")
    # the driver suffix (+psycopg) is SQLAlchemy's; libpq knows only postgresql://
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def require(catalogue: Catalogue) -> None:
    """Refuse (exit 2) a catalogue the queue cannot use, or a machine without procrastinate."""
    conninfo(catalogue)
    try:
        import procrastinate  # noqa: F401
    except ImportError:
        raise BadInput("the queue needs procrastinate on this machine: pip install 'atlas[teams]'") from None
