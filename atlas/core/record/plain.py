"""The facts `atlas show --json` prints, read with the standard library's sqlite3: `build.describe`
for the SQLite reader of read commands (`catalogue/reader.py`), which runs without SQLAlchemy.

It reads what `build` reads, row for row, and shapes it the same way; tests/test_plain_show.py
requires equal output for every render of a varied catalogue.
"""

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from atlas.core.catalogue.licences import spdx_expression
from atlas.core.errors import AtlasError, NotFound
from atlas.core.record.shape import RECORD_VERSION, timestamp
from atlas.core.settings import MAX_INT


class _Licence:
    """A licence row with the attributes `spdx_expression` reads."""

    def __init__(self, row: sqlite3.Row):
        self.id, self.spdx = row["id"], row["spdx"]
        self.row = row


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def _json(text):
    return None if text is None else json.loads(text)


def _one(connection: sqlite3.Connection, sql: str, *params) -> sqlite3.Row | None:
    return connection.execute(sql, params).fetchone()


def licence_ref(connection: sqlite3.Connection, licence_id: str | None) -> dict | None:
    """`catalogue.licence_ref` of the licence row `licence_id` (records carry no terms)."""
    row = _one(connection, "SELECT * FROM licence WHERE id = ?", licence_id) if licence_id else None
    if row is None:
        return None
    return {"id": row["id"], "name": row["name"], "url": row["url"], "spdx": spdx_expression(_Licence(row)),
            "commons_template": row["commons_template"]}


def model_ref(connection: sqlite3.Connection, model_id: int | None) -> dict | None:
    if model_id is None:
        return None
    model = _one(connection, "SELECT * FROM model WHERE id = ?", model_id)
    if model is None:
        raise AtlasError(f"the catalogue names model {model_id}, which it does not hold")
    return {"name": model["name"], "kind": model["kind"], "source": model["source"], "format": model["format"],
            "sha256": model["sha256"], "short_hash": model["short_hash"], "demo": bool(model["demo"]),
            "licence": licence_ref(connection, model["licence_id"])}


def producing_pass(connection: sqlite3.Connection, render_id: int) -> sqlite3.Row | None:
    # `tables.produces_render`; the first such pass by id, as SQLAlchemy's unordered .first() reads it.
    return _one(connection, "SELECT * FROM pass WHERE pass.render_id = ? AND pass.status = 'completed' "
                "AND (pass.kind != 'import' OR pass.position IS NULL)", render_id)


def lineage(connection: sqlite3.Connection, render_id: int) -> list[sqlite3.Row]:
    chain: list[sqlite3.Row] = []
    seen: set[int] = set()
    current: int | None = render_id
    while current is not None and current not in seen:
        seen.add(current)
        step = producing_pass(connection, current)
        if step is None:
            break
        chain.append(step)
        current = step["input_render_id"]
    chain.reverse()
    return chain


def pass_record(connection: sqlite3.Connection, step: sqlite3.Row, refs: dict) -> dict:
    def ref(model_id):
        if model_id not in refs:
            refs[model_id] = model_ref(connection, model_id)
        return refs[model_id]

    source = _render(connection, step["input_render_id"]) if step["input_render_id"] else None
    output = _render(connection, step["render_id"]) if step["render_id"] else None
    started, ended = _time(step["started"]), _time(step["ended"])
    duration = (ended - started).total_seconds() if ended and started else None
    entry = {
        "kind": step["kind"], "status": step["status"],
        "prompt": step["prompt"], "negative_prompt": step["negative_prompt"],
        "seed": step["seed"], "sampler": step["sampler"], "steps": step["steps"], "steps_run": step["steps_run"],
        "cfg": step["cfg"], "width": step["width"], "height": step["height"], "denoise": step["denoise"],
        "settings": _json(step["settings"]),
        "model": ref(step["model_id"]),
        "upscaler": ref(step["upscaler_id"]),
        "software": _json(step["software"]), "device": step["device"],
        "started": timestamp(started), "ended": timestamp(ended),
        "duration_s": round(duration, 3) if duration is not None else None,
        "input": ({"width": source["width"], "height": source["height"], "sha256": source["sha256"]}
                  if source else None),
        "output": ({"width": output["width"], "height": output["height"]} if output
                   else {"width": step["width"] or 1, "height": step["height"] or 1}),
        "tool": output["tool"] if output else "atlas",
        "run": {"id": step["run_id"], "position": step["position"]} if step["run_id"] else None,
    }
    raw = _json(step["raw_metadata"])
    if raw is not None:
        entry["raw_metadata"] = raw
    return entry


def _render(connection: sqlite3.Connection, render_id: int) -> sqlite3.Row | None:
    return _one(connection, "SELECT * FROM render WHERE id = ?", render_id)


def build(connection: sqlite3.Connection, render: sqlite3.Row) -> dict:
    chain = lineage(connection, render["id"])
    refs: dict = {}
    last = chain[-1] if chain else None
    run = (_one(connection, "SELECT id, recipe_name FROM run WHERE id = ?", last["run_id"])
           if last is not None and last["run_id"] else None)
    identity = _one(connection, "SELECT uuid FROM catalogue_identity")
    return {
        "atlas_record": RECORD_VERSION,
        # As record/build.py: which catalogue the render id below belongs to.
        **({"catalogue": identity["uuid"]} if identity else {}),
        "render": {
            "id": render["id"], "title": render["title"], "description": render["description"],
            "author": render["author"], "created": timestamp(_time(render["created"])),
            "width": render["width"], "height": render["height"], "format": render["format"],
            "tool": render["tool"], "licence": licence_ref(connection, render["licence_id"]),
        },
        "lineage": [pass_record(connection, step, refs) for step in chain],
        "run": ({"id": run["id"], "recipe_name": run["recipe_name"]} if run else None),
    }


def get_render(connection: sqlite3.Connection, render_id: int | str) -> sqlite3.Row:
    """`build.get_render`: the same checks, the same messages."""
    try:
        key = int(render_id)
    except (TypeError, ValueError):
        raise NotFound(f"render id must be a number, got {render_id!r}") from None
    if not 0 < key <= MAX_INT:
        raise NotFound(f"no render with id {key}")
    render = _render(connection, key)
    if render is None:
        raise NotFound(f"no render with id {key}")
    return render


def describe(connection: sqlite3.Connection, store: Path, render_id: int | str) -> dict:
    """`build.describe` of render `render_id`, the store rooted at `store`."""
    connection.row_factory = sqlite3.Row
    render = get_render(connection, render_id)
    if render["store_path"]:
        path: Path | None = store / render["store_path"]
    else:
        path = Path(render["linked_path"]) if render["linked_path"] else None
    tags = [row[0] for row in connection.execute("SELECT name FROM tag WHERE render_id = ? ORDER BY name",
                                                 (render["id"],))]
    return {"id": render["id"], "sha256": render["sha256"], "path": str(path) if path else None,
            "size_bytes": render["size_bytes"], "tags": tags, "rating": render["rating"],
            "hidden": bool(render["hidden"]), "record": build(connection, render)}
