"""The catalogue: the database, the file store and the home they live in, opened together.

`Catalogue`, `tags_of`, `licence_ref`, `StoredFile` and `DEFAULT_BUSY_TIMEOUT_S` live in
`opening.py` and load on first use (PEP 562), so a read command that needs only the home
(`home.py`), the schema head (`head.py`) or the SQLite reader (`reader.py`) never loads
SQLAlchemy by importing this package.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atlas.core.catalogue.opening import DEFAULT_BUSY_TIMEOUT_S, Catalogue, StoredFile, licence_ref, tags_of

__all__ = ["DEFAULT_BUSY_TIMEOUT_S", "Catalogue", "StoredFile", "licence_ref", "tags_of"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("atlas.core.catalogue.opening"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
