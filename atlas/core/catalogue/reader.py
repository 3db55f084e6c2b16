"""The catalogue opened for reading with the standard library's sqlite3 alone: how `atlas search`
and `atlas list` answer without loading SQLAlchemy.

Only a catalogue that needs nothing done to it qualifies: a SQLite file in the home (no
ATLAS_DATABASE_URL), already at the schema head. Anything else (a new home, one needing a
migration, PostgreSQL, a file that does not open) gets None, and the caller opens the
`Catalogue` as every other command does.
"""

import os
import sqlite3
from pathlib import Path

from atlas.core.catalogue.head import HEAD
from atlas.core.catalogue.home import Home


def open_reader(home: Home) -> sqlite3.Connection | None:
    """A read-only connection to the home's catalogue, or None (see above)."""
    if home.database_url_from_env:
        return None
    path = home.database_path
    if not path.is_file():
        return None
    try:
        # Read-only: a reader never writes, nor creates the file; WAL lets it read beside a writer.
        connection = sqlite3.connect(f"{Path(path).as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error:
        return None
    try:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        revision = None
    if revision is None or revision[0] != HEAD:
        connection.close()
        return None
    return connection


def reader_disabled() -> bool:
    """ATLAS_NO_READER=1 sends read commands through SQLAlchemy (for comparing the two paths)."""
    return os.environ.get("ATLAS_NO_READER", "") not in ("", "0")
