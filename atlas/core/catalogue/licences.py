"""Built-in licences, kept as data (atlas/data/licences.json) and validated by schemas/licences."""

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from atlas.core.errors import NotFound

if TYPE_CHECKING:  # imported on use: `spdx_expression` serves the SQLite reader, which runs without SQLAlchemy
    from sqlmodel import Session

    from atlas.core.catalogue.tables import Licence

BUILTIN_PATH = Path(__file__).resolve().parents[2] / "data" / "licences.json"


@cache
def builtin() -> tuple[dict, ...]:
    from atlas.core.schemas import validate

    data = json.loads(BUILTIN_PATH.read_text(encoding="utf-8"))
    validate("licences", data, what=str(BUILTIN_PATH))
    return tuple(data)


class NamedLicence(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def spdx(self) -> str | None: ...


def sync_builtin(session: "Session") -> None:
    """Insert or refresh the built-in licences (user-added ones are left alone)."""
    from atlas.core.catalogue.tables import Licence

    for entry in builtin():
        row = session.get(Licence, entry["id"])
        fields = {"spdx": None, "commons_template": None, "summary": "", "output_rights": "",
                  "restrictions": [], **entry}
        if row is None:
            session.add(Licence(**fields))
        else:
            for key, value in fields.items():
                setattr(row, key, value)


def get(session: "Session", licence_id: str) -> "Licence":
    from sqlmodel import col, select

    from atlas.core.catalogue.tables import Licence

    row = session.get(Licence, licence_id)
    if row is None:
        # Licence ids are case-sensitive in SPDX, but users type them loosely.
        row = session.exec(select(Licence).where(col(Licence.id).ilike(licence_id))).first()
    if row is None:
        known = ", ".join(sorted(session.exec(select(Licence.id)).all()))
        raise NotFound(f"unknown licence {licence_id!r}; known licences: {known}")
    return row


def spdx_expression(licence: NamedLicence) -> str:
    """An SPDX-syntax id: the real one, or a LicenseRef for licences SPDX does not list."""
    return licence.spdx or f"LicenseRef-{licence.id.replace('+', '-plus')}"
