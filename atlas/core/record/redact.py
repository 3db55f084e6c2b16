"""A provenance record with chosen facts left out, for `atlas export --redact`.

One function makes the redacted record and every writer of an export (PNG chunks and the A1111
text, XMP, EXIF, C2PA, the Commons page, NAME.provenance.json, batch.jsonl) is handed that record,
so no writer can leak what another leaves out. The catalogue keeps everything.

A fact is removed where the record holds it (a pass's prompt, seed, model...) and also wherever its
value turns up again in the free-form parts: a pass's `settings` (imports keep their maker's
fields there: base prompts, per-tile seeds, resource lists, paths), the render's title and
description, and an import's `raw_metadata` (the foreign file's text, verbatim: dropped whole).
"""

import copy
import re
from collections.abc import Iterable

FIELDS = ("prompt", "negative", "seed", "author", "paths", "models")
REDACTED_MODEL_NAME = "(redacted)"

# Settings keys that name the fact itself, whatever their value (lower case, substring match).
_KEY_WORDS = {
    "prompt": ("prompt", "infotext", "caption", "wildcard"),
    "negative": ("negative", "infotext"),
    "seed": ("seed", "noise", "ensd", "infotext"),
    "models": ("model", "checkpoint", "ckpt", "lora", "lyco", "vae", "hypernet", "embedding", "upscaler",
               "refiner", "resources", "hash", "infotext"),
    "paths": ("path", "file", "dir", "folder"),
}
# An absolute path (POSIX, home-relative, Windows drive or UNC) or a file URL.
_PATH = re.compile(r"(^|[\s\"'=(])(/[^\s/]+/|~/|[A-Za-z]:[\\/]|\\\\[^\\\s]+\\|file:)")


class UnknownField(ValueError):
    pass


def parse_fields(value: str | Iterable[str] | None) -> list[str]:
    """`"prompt,seed"` (or a list of names) as the sorted list of fields; "all" means every one."""
    if value is None:
        return []
    names = value.split(",") if isinstance(value, str) else list(value)
    found: set[str] = set()
    for name in (str(n).strip().lower() for n in names):
        if not name:
            continue
        if name == "all":
            found.update(FIELDS)
        elif name in FIELDS:
            found.add(name)
        else:
            raise UnknownField(f"cannot redact {name!r}: choose from {', '.join(FIELDS)} (or all)")
    return [f for f in FIELDS if f in found]


def _secrets(record: dict, fields: list[str]) -> tuple[list[str], set[int]]:
    """The strings and the integers (seeds) whose every occurrence goes."""
    strings: list[str] = []
    numbers: set[int] = set()
    for step in record.get("lineage") or []:
        if "prompt" in fields and step.get("prompt"):
            strings.append(step["prompt"])
        if "negative" in fields and step.get("negative_prompt"):
            strings.append(step["negative_prompt"])
        if "seed" in fields and isinstance(step.get("seed"), int):
            numbers.add(step["seed"])
        for key in ("model", "upscaler"):
            model = step.get(key) or {}
            if "models" in fields:
                strings += [model[k] for k in ("name", "sha256", "short_hash", "source") if model.get(k)]
            if "paths" in fields and _looks_like_path(model.get("source")):
                strings.append(model["source"])
    if "author" in fields and (record.get("render") or {}).get("author"):
        strings.append(record["render"]["author"])
    # Short strings ("a", "cat") would strike out unrelated words: only distinctive ones are hunted.
    return [s for s in dict.fromkeys(strings) if len(s.strip()) >= 3], numbers


def _looks_like_path(value) -> bool:
    return isinstance(value, str) and bool(_PATH.search(value))


def _mentions(value: str, strings: list[str], numbers: set[int]) -> bool:
    if any(s in value for s in strings):
        return True
    return any(re.search(rf"(?<!\d){n}(?!\d)", value) for n in numbers)


def _scrub(value, fields: list[str], strings: list[str], numbers: set[int]):
    """`value` (settings, nested) without the keys that name a redacted fact and without any entry
    that mentions a redacted value; None when nothing is left of it."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            lowered = str(key).lower()
            if any(word in lowered for f in fields for word in _KEY_WORDS.get(f, ())):
                continue
            kept = _scrub(item, fields, strings, numbers)
            if kept is not _DROP:
                out[key] = kept
        return out
    if isinstance(value, list):
        return [kept for item in value if (kept := _scrub(item, fields, strings, numbers)) is not _DROP]
    if isinstance(value, str):
        if _mentions(value, strings, numbers) or ("paths" in fields and _looks_like_path(value)):
            return _DROP
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in numbers:
        return _DROP
    return value


_DROP = object()


def _model(model: dict | None) -> dict | None:
    if model is None:
        return None
    # Kind, licence and whether it is atlas's demo model stay: the licence governs the output.
    return {"name": REDACTED_MODEL_NAME, "kind": model["kind"], "sha256": None, "short_hash": None,
            "demo": model.get("demo", False), "licence": model.get("licence")}


def redact(record: dict, fields: Iterable[str]) -> dict:
    """`record` without the facts named by `fields` (see FIELDS), saying which: `"redacted": [...]`.

    Pure: `record` is not changed. No fields gives the record itself (an equal copy)."""
    chosen = parse_fields(list(fields))
    out = copy.deepcopy(record)
    if not chosen:
        return out
    strings, numbers = _secrets(record, chosen)
    render = out["render"]
    if "author" in chosen:
        render["author"] = None
    for key in ("title", "description"):
        if isinstance(render.get(key), str) and _mentions(render[key], strings, numbers):
            render[key] = None
    for step in out["lineage"]:
        if "prompt" in chosen:
            step["prompt"] = ""
        if "negative" in chosen:
            step["negative_prompt"] = ""
        if "seed" in chosen:
            step["seed"] = None
        if "models" in chosen:
            step["model"], step["upscaler"] = _model(step.get("model")), _model(step.get("upscaler"))
        elif "paths" in chosen:
            for key in ("model", "upscaler"):
                if step.get(key) and _looks_like_path(step[key].get("source")):
                    step[key].pop("source")
        step["settings"] = _scrub(step.get("settings") or {}, chosen, strings, numbers)
        if not isinstance(step["settings"], dict):
            step["settings"] = {}
        # The foreign maker's metadata, verbatim: it repeats every fact, so it goes whole.
        step.pop("raw_metadata", None)
    out["redacted"] = chosen
    return out

