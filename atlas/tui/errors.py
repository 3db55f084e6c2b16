"""Turn an exception from core or the engine into one line for a notification (never a traceback)."""

from atlas.core.errors import AtlasError


def explain(exc: BaseException) -> str:
    try:
        from sqlalchemy.exc import OperationalError
    except ImportError:  # pragma: no cover - sqlalchemy is a dependency
        OperationalError = ()
    if isinstance(exc, OperationalError):
        if "locked" in str(exc).lower() or "busy" in str(exc).lower():
            return "the catalogue is locked by another writer; try again when it has finished"
        return f"database error: {exc.orig if getattr(exc, 'orig', None) else exc}"
    if isinstance(exc, AtlasError):
        return str(exc)
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    return f"{type(exc).__name__}: {exc}"
