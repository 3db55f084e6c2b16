"""Locate the data folders (schemas, templates, migrations) in a wheel or a source checkout.

The wheel carries them inside the package (`atlas/schemas`, ...); a source checkout or an editable
install has them at the repository's top level, beside the package.
"""

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"atlas data folder {name!r} is missing from the installation")


def schema_path(name: str) -> Path:
    return data_dir("schemas") / f"{name}.schema.json"
