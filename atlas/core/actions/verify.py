"""Prove that a file is what the catalogue says: its sha256, its embedded record, its C2PA signature.

Each check that fails adds one line naming the problem; an empty list means the render is sound.
"""

import os
from pathlib import Path

from sqlmodel import col, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.store import sha256_file
from atlas.core.catalogue.tables import Render
from atlas.core.errors import BadInput
from atlas.core.files import embed
from atlas.core.files.inspect import inspect_file
from atlas.core.record.build import build, get_render
from atlas.core.trust.keys import trust_anchor

MAX_DIFFS = 10


def differences(found, expected, path: str = "$") -> list[str]:
    """'PATH: file has X, catalogue has Y' for each place where two JSON values differ."""
    if isinstance(found, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(found) | set(expected), key=str):
            if key not in found:
                out.append(f"{path}.{key}: missing in the file, catalogue has {expected[key]!r}")
            elif key not in expected:
                out.append(f"{path}.{key}: file has {found[key]!r}, not in the catalogue")
            else:
                out += differences(found[key], expected[key], f"{path}.{key}")
        return out
    if isinstance(found, list) and isinstance(expected, list) and len(found) == len(expected):
        pairs = enumerate(zip(found, expected, strict=False))
        return [d for i, (a, b) in pairs for d in differences(a, b, f"{path}[{i}]")]
    if found != expected or (type(found) is not type(expected) and not _same_number(found, expected)):
        return [f"{path}: file has {_short(found)}, catalogue has {_short(expected)}"]
    return []


def _same_number(a, b) -> bool:
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and a == b


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _c2pa_problems(facts: dict, anchor: bytes | None) -> list[str]:
    found = facts.get("c2pa")
    if found is None:
        return []
    state = found["validation_state"]
    if state == "Invalid" or found["failures"]:
        return [f"C2PA: {failure}" for failure in found["failures"]] or ["C2PA: the manifest is invalid"]
    if anchor is not None and state != "Trusted":
        return [f"C2PA: the signature is valid but its signer is not trusted (state {state})"]
    return []


def check_file(catalogue: Catalogue, render: Render, path: Path, record: dict, anchor: bytes | None) -> list[str]:
    """The problems of `path` as the file of `render`, whose catalogue record is `record`."""
    problems = []
    digest = sha256_file(path)
    if digest != render.sha256:
        problems.append(f"{path}: sha256 {digest} differs from the catalogue's {render.sha256}: "
                        "the file changed after atlas stored it")
    try:
        facts = inspect_file(path, anchor)
    except BadInput as exc:
        return problems + [str(exc)]
    problems += facts["problems"]
    if render.tool == "atlas":  # imported files carry whatever their maker wrote
        embedded = facts["record"]
        if embedded is None:
            problems.append(f"{path}: no atlas record embedded")
        else:
            diffs = differences(embedded, record)
            problems += [f"{path}: embedded record differs from the catalogue at {d}" for d in diffs[:MAX_DIFFS]]
            if len(diffs) > MAX_DIFFS:
                problems.append(f"{path}: ... and {len(diffs) - MAX_DIFFS} more differences")
        if render.format == "png":
            written = (facts["parameters"] or {}).get("raw")
            if written != embed.parameters_text(record):
                problems.append(f"{path}: the A1111 parameters text differs from what the catalogue record gives")
    problems += [f"{path}: {p}" for p in _c2pa_problems(facts, anchor)]
    return problems


def verify_render(catalogue: Catalogue, render_id: int | str) -> list[str]:
    """Every problem found with render `render_id`'s file; empty when it is sound."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
        record = build(session, render)
    path = catalogue.file_of(render)
    if path is None or not path.exists():
        return [f"render {render.id}: its file {path or '(none recorded)'} is missing"]
    return [f"render {render.id}: {p}" for p in check_file(catalogue, render, path, record,
                                                          trust_anchor(catalogue.home))]


def verify_file(catalogue: Catalogue, path: str | os.PathLike) -> list[str]:
    """Problems with a file given by path: which render it is (by sha256, else by its embedded
    record's render id), then the same checks as `verify_render`."""
    path = Path(path)
    facts = inspect_file(path)  # BadInput for files that are no image at all
    with catalogue.session() as session:
        render = session.exec(select(Render).where(Render.sha256 == facts["sha256"])).first()
        embedded_id = embedded_render_id(facts.get("record"))
        if render is None and embedded_id is not None:
            render = session.get(Render, embedded_id)
        if render is None:
            return [f"{path}: not in the catalogue (no render has its sha256"
                    + (f" or its embedded render id {embedded_id})" if embedded_id is not None else ")")]
        record = build(session, render)
    return [f"render {render.id}: {p}" for p in check_file(catalogue, render, path, record,
                                                          trust_anchor(catalogue.home))]


def embedded_render_id(record) -> int | None:
    """The render id an embedded record names, or None: a record of the wrong shape (reported by
    `inspect_file` against the schema) names none."""
    render = record.get("render") if isinstance(record, dict) else None
    found = render.get("id") if isinstance(render, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def verify_targets(catalogue: Catalogue, targets=(), check_all: bool = False) -> dict[str, list[str]]:
    """`atlas verify`: the problems of each target (a render id, or a file by path; a number that
    names an existing file is the file), then of every render when `check_all`. Keyed by target."""
    results = {}
    for target in targets:
        if str(target).isdigit() and not Path(target).exists():
            results[str(target)] = verify_render(catalogue, int(target))
        else:
            results[str(target)] = verify_file(catalogue, target)
    if check_all:
        with catalogue.session() as session:
            ids = session.exec(select(Render.id).order_by(col(Render.id))).all()
        for render_id in ids:
            results[str(render_id)] = verify_render(catalogue, render_id)
    return results
