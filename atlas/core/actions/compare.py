"""Two renders side by side: their parameters in rows, the rows that differ marked.

A pure function of two provenance records (`record.build.build`, as `atlas show --json` prints
under "record"), so the TUI's compare screen and any script compare the same way. A render's
parameters are those of the pass that produced it (the last of its lineage); the lineage itself
is compared as its kinds in order.
"""

import math
from dataclasses import dataclass
from typing import Any

# The rows in reading order: the render's facts, then the producing pass's parameters.
RENDER_ROWS = ("size", "format", "tool", "licence", "author", "created")
PASS_ROWS = ("kind", "prompt", "negative_prompt", "model", "model_hash", "sampler", "steps", "steps_run", "cfg",
             "seed", "width", "height", "denoise", "upscaler", "device")


@dataclass(frozen=True)
class Row:
    label: str
    left: Any  # None where that render has no such value
    right: Any
    differs: bool


def _same(a: Any, b: Any) -> bool:
    # Floats read back from different sources (a file's "0.52", a sum 0.5199999999999996) are one value.
    numbers = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b))
    if numbers and (isinstance(a, float) or isinstance(b, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _render_value(record: dict, key: str) -> Any:
    render = record.get("render") or {}
    if key == "size":
        return f"{render.get('width')}x{render.get('height')}"
    if key == "licence":
        return (render.get("licence") or {}).get("id")
    return render.get(key)


def _pass_values(record: dict) -> dict[str, Any]:
    lineage = record.get("lineage") or []
    step = lineage[-1] if lineage else {}
    model, upscaler = step.get("model") or {}, step.get("upscaler") or {}
    settings = step.get("settings") or {}
    values = {key: step.get(key) for key in PASS_ROWS}
    # An imported render has no model row: the name and hash it found are in its settings.
    values["model"] = model.get("name") or settings.get("model")
    values["model_hash"] = model.get("short_hash") or settings.get("model_hash")
    values["upscaler"] = upscaler.get("name")
    return values


def _settings(record: dict) -> dict[str, Any]:
    lineage = record.get("lineage") or []
    settings = (lineage[-1].get("settings") or {}) if lineage else {}
    return {key: value for key, value in settings.items() if key not in ("model", "model_hash")}


def compare(left: dict, right: dict) -> list[Row]:
    """The rows of a side-by-side comparison of two records: render facts, the producing pass's
    parameters, each setting either pass recorded (`settings.NAME`, sorted), and the lineage."""
    rows = [_row(key, _render_value(left, key), _render_value(right, key)) for key in RENDER_ROWS]
    a, b = _pass_values(left), _pass_values(right)
    rows += [_row(key, a[key], b[key]) for key in PASS_ROWS]
    sa, sb = _settings(left), _settings(right)
    rows += [_row(f"settings.{key}", sa.get(key), sb.get(key)) for key in sorted(set(sa) | set(sb))]
    kinds = [" > ".join(step.get("kind", "?") for step in record.get("lineage") or []) or None
             for record in (left, right)]
    rows.append(_row("lineage", *kinds))
    return rows


def _row(label: str, left: Any, right: Any) -> Row:
    return Row(label, left, right, not _same(left, right))


def differences(left: dict, right: dict) -> list[Row]:
    """Only the rows that differ."""
    return [row for row in compare(left, right) if row.differs]
