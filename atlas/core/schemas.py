"""JSON Schema validation with errors that name the JSON path and the reason."""

import json
from functools import cache

from atlas.core.errors import BadInput
from atlas.core.resources import schema_path


@cache
def validator(name: str):
    import jsonschema  # imported lazily: it costs ~30 ms and most commands never validate

    schema = json.loads(schema_path(name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def json_path(error) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def problems(name: str, document) -> list[str]:
    """Every violation of schema `name` in `document`, as 'PATH: reason' lines."""
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{json_path(e)}: {e.message}" for e in errors]


def validate(name: str, document, what: str | None = None) -> None:
    found = problems(name, document)
    if found:
        raise BadInput(f"invalid {what or name}:\n  " + "\n  ".join(found))
