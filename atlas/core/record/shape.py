"""The record's version and its one way of writing a time: shared by `build` (SQLAlchemy) and
`plain` (sqlite3), which must write records alike."""

from datetime import UTC, datetime

RECORD_VERSION = 1


def timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands back naive datetimes; atlas stores UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
