"""Prove that a file is what the catalogue says: its sha256, its embedded record, its C2PA signature.

Each check that fails adds one line naming the problem; an empty list means the render is sound.
What is worth knowing but no problem (an export, a redacted copy, a file of another catalogue) is
added to `notes` when the caller passes a list.

A file given by path is one of:
- a render's stored file (or a byte-identical PNG export): found by sha256, checked as the render;
- an export of a render of this catalogue (JPEG, WebP, a redacted or re-embedded PNG): found by its
  embedded record's render id and catalogue uuid, then checked against that render: the record
  (with what the export says it redacted left out of the comparison), the pixels (equal for PNG,
  close for the lossy formats) and the C2PA ingredient (the render's own manifest);
- a file of another catalogue (its record names another catalogue uuid): checked on its own, its
  record against its A1111 text and its signature, never against a local render that shares its id;
- damaged (a bad CRC, a truncated file): a problem, not bad input.
"""

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlmodel import col, delete, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.store import sha256_file
from atlas.core.catalogue.tables import Render, Tag, flushed_id
from atlas.core.errors import BadInput
from atlas.core.files import embed
from atlas.core.files.inspect import inspect_file, sniff
from atlas.core.files.regular import open_regular
from atlas.core.record.build import build, catalogue_id, get_render
from atlas.core.record.redact import redact
from atlas.core.trust.keys import trust_anchor
from atlas.core.trust.recorded import signature_problems

MAX_DIFFS = 10
# A JPEG or WebP export at atlas's quality 95 stays above this peak signal-to-noise ratio (dB): 26 dB
# measured on the demo model's noise-like 64x64 renders (chroma subsampling), ~40 dB on real images;
# another image of the same size scores ~10 dB. A small local edit passes it: the signature catches that.
MIN_LOSSY_PSNR = 20.0


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


def _expected(embedded: dict, record: dict) -> dict:
    """The catalogue's `record` as `embedded` should read: without what it says it redacted, and
    without the catalogue uuid when it predates it (records carry one since migration 0005)."""
    expected = redact(record, embedded.get("redacted") or [])
    if "catalogue" not in embedded:
        expected.pop("catalogue", None)
    return expected


def _record_problems(path: Path, embedded: dict, record: dict) -> list[str]:
    diffs = differences(embedded, _expected(embedded, record))
    problems = [f"{path}: embedded record differs from the catalogue at {d}" for d in diffs[:MAX_DIFFS]]
    if len(diffs) > MAX_DIFFS:
        problems.append(f"{path}: ... and {len(diffs) - MAX_DIFFS} more differences")
    return problems


def _parameters_problems(path: Path, facts: dict, record: dict) -> list[str]:
    """The A1111 text against the record it was written from (a PNG's always; a JPEG's or WebP's
    UserComment when it is there: a very long one is left out of EXIF)."""
    written = (facts["parameters"] or {}).get("raw")
    if written is None and facts["format"] != "png":
        return []
    if written != embed.parameters_text(record):
        return [f"{path}: the A1111 parameters text differs from what the catalogue record gives"]
    return []


def _redaction_note(path: Path, embedded: dict | None) -> list[str]:
    fields = (embedded or {}).get("redacted")
    return [f"{path}: exported with {', '.join(fields)} redacted (left out on purpose, not tampered with)"] \
        if fields else []


def check_file(catalogue: Catalogue, render: Render, path: Path, record: dict, anchor: bytes | None,
               notes: list[str] | None = None) -> list[str]:
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
            problems += _record_problems(path, embedded, record)
            if notes is not None:
                notes += _redaction_note(path, embedded)
        if render.format == "png":
            problems += _parameters_problems(path, facts, embedded if embedded is not None else record)
    problems += [f"{path}: {p}" for p in _c2pa_problems(facts, anchor)]
    problems += [f"{path}: {p}" for p in signature_problems(render, path, catalogue.file_of(render), facts.get("c2pa"))]
    return problems


def pixel_problems(path: Path, fmt: str, source: Path, render_id: int) -> list[str]:
    """Whether `path` shows the pixels of `source` (render `render_id`'s stored file): exactly for a
    PNG, within MIN_LOSSY_PSNR for JPEG and WebP."""
    import math

    from PIL import Image, ImageChops, ImageStat

    try:
        with Image.open(path) as file_image, Image.open(source) as stored:
            if file_image.size != stored.size:
                return [f"{path}: it is {file_image.size[0]}x{file_image.size[1]}, render {render_id} is "
                        f"{stored.size[0]}x{stored.size[1]}: not its pixels"]
            mode = "RGBA" if fmt == "png" else "RGB"  # JPEG has no alpha; a WebP export's is compared as RGB
            diff = ImageChops.difference(file_image.convert(mode), stored.convert(mode))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        return [f"{path}: its pixels cannot be compared with render {render_id}'s file ({exc})"]
    squares = sum(ImageStat.Stat(diff).sum2)
    if fmt == "png":
        return [] if squares == 0 else [f"{path}: its pixels differ from render {render_id}'s"]
    mse = squares / (diff.size[0] * diff.size[1] * len(mode))
    psnr = math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)
    if psnr < MIN_LOSSY_PSNR:
        return [f"{path}: its pixels are not render {render_id}'s (PSNR {psnr:.1f} dB, an export is above "
                f"{MIN_LOSSY_PSNR:.0f} dB)"]
    return []


def _ingredient_problems(path: Path, facts: dict, source: Path, anchor: bytes | None, render_id: int) -> list[str]:
    """A signed export names the render it was made from as its parentOf ingredient: that
    ingredient's manifest must be the render's own."""
    manifests = (facts.get("c2pa") or {}).get("manifests") or []
    parent = manifests[0].get("parent") if manifests else None
    if parent is None:
        return []
    from atlas.core.files import credentials

    stored = credentials.read(source, anchor)
    if stored is None or stored.get("active_manifest") != parent:
        return [f"{path}: C2PA: its ingredient is not render {render_id}'s manifest"]
    return []


def check_export(catalogue: Catalogue, render: Render, path: Path, facts: dict, record: dict,
                 anchor: bytes | None, notes: list[str] | None = None) -> list[str]:
    """The problems of `path`, whose sha256 is no render's, as an export of `render`: its embedded
    record against the catalogue's, its pixels against the stored file's, its signature and
    C2PA ingredient. (`facts`: what `inspect_file` found in it.)"""
    embedded = facts["record"]
    problems = list(facts["problems"]) + _record_problems(path, embedded, record)
    problems += _parameters_problems(path, facts, embedded)
    source = catalogue.file_of(render)
    if source is None or not source.is_file():
        problems.append(f"{path}: render {render.id}'s file {source or '(none recorded)'} is missing: "
                        "its pixels cannot be compared")
    else:
        problems += pixel_problems(path, facts["format"], source, flushed_id(render))
        problems += _ingredient_problems(path, facts, source, anchor, flushed_id(render))
    problems += [f"{path}: {p}" for p in _c2pa_problems(facts, anchor)]
    if notes is not None and not problems:
        notes.append(f"{path}: a {facts['format'].upper()} export of render {render.id} (its own bytes; "
                     "record, pixels and signature checked against the render)")
    if notes is not None:
        notes += _redaction_note(path, embedded)
    return problems


def check_foreign(path: Path, facts: dict, anchor: bytes | None, notes: list[str] | None = None) -> list[str]:
    """A file of another catalogue, on its own: its record (schema), its A1111 text against that
    record, and its C2PA signature (valid; its signer need not be one this home trusts)."""
    embedded = facts["record"]
    problems = list(facts["problems"]) + _parameters_problems(path, facts, embedded)
    found = facts.get("c2pa")
    problems += [f"{path}: {p}" for p in _c2pa_problems(facts, None)]  # integrity; trust is noted below
    if notes is not None:
        notes.append(f"{path}: from another catalogue ({embedded.get('catalogue')}): checked on its own record "
                     "and signature, not against this catalogue's renders")
        notes += _redaction_note(path, embedded)
        if found is None:
            notes.append(f"{path}: it carries no C2PA signature")
        elif anchor is not None and found["validation_state"] != "Trusted" and not problems:
            signer = next((m.get("signer") for m in found.get("manifests", [])), None)
            notes.append(f"{path}: C2PA: the signature is valid; its signer ({signer}) is not one this home trusts")
    return problems


def verify_render(catalogue: Catalogue, render_id: int | str, notes: list[str] | None = None) -> list[str]:
    """Every problem found with render `render_id`'s file; empty when it is sound."""
    with catalogue.session() as session:
        render = get_render(session, render_id)
        record = build(session, render)
    path = catalogue.file_of(render)
    if path is None or not path.exists():
        return [f"render {render.id}: its file {path or '(none recorded)'} is missing"]
    return [f"render {render.id}: {p}" for p in check_file(catalogue, render, path, record,
                                                          trust_anchor(catalogue.home), notes)]


def _readable_image(path: Path) -> None:
    """BadInput unless `path` is a readable file that starts like a PNG, JPEG or WebP: what is wrong
    with the argument itself. Damage further in is the file's problem, reported as such."""
    if path.is_dir():
        raise BadInput(f"{path}: is a directory, not a file")
    try:
        with open_regular(path, str(path)) as fh:
            head = fh.read(16)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read it: {exc.strerror}") from None
    if not head:
        raise BadInput(f"{path}: empty file, not an image")
    if sniff(head) is None:
        raise BadInput(f"{path}: not a PNG, JPEG or WebP image")


def verify_file(catalogue: Catalogue, path: str | os.PathLike, notes: list[str] | None = None) -> list[str]:
    """Problems with a file given by path (see the module's docstring for the cases). BadInput only
    when the argument is no image file at all; a damaged image is a problem."""
    path = Path(path)
    _readable_image(path)
    anchor = trust_anchor(catalogue.home)
    try:
        facts = inspect_file(path, anchor)
    except BadInput as exc:  # a bad CRC, a truncated chunk: the file is damaged
        return [f"{path}: damaged: {exc}"]
    embedded = facts.get("record")
    with catalogue.session() as session:
        render = session.exec(select(Render).where(Render.sha256 == facts["sha256"])).first()
        if render is not None:  # the stored file itself (or a byte-identical copy)
            record = build(session, render)
            return [f"render {render.id}: {p}" for p in check_file(catalogue, render, path, record, anchor, notes)]
        embedded_id = embedded_render_id(embedded)
        local = catalogue_id(session)
        theirs = embedded.get("catalogue") if isinstance(embedded, dict) else None
        if isinstance(theirs, str) and theirs != local:
            return check_foreign(path, facts, anchor, notes)
        if embedded_id is not None:
            render = session.get(Render, embedded_id)
        if render is None:
            return [f"{path}: not in the catalogue (no render has its sha256"
                    + (f" or its embedded render id {embedded_id})" if embedded_id is not None else ")")]
        record = build(session, render)
    if theirs is None:  # a record from before catalogue uuids: only its bytes can tie it to the render
        return [f"render {render.id}: {p}" for p in check_file(catalogue, render, path, record, anchor, notes)]
    return [f"render {render.id}: {p}" for p in check_export(catalogue, render, path, facts, record, anchor, notes)]


def embedded_render_id(record) -> int | None:
    """The render id an embedded record names, or None: a record of the wrong shape (reported by
    `inspect_file` against the schema) names none."""
    render = record.get("render") if isinstance(record, dict) else None
    found = render.get("id") if isinstance(render, dict) else None
    return found if isinstance(found, int) and not isinstance(found, bool) else None


def verify_targets(catalogue: Catalogue, targets=(), check_all: bool = False,
                   notes: list[str] | None = None) -> dict[str, list[str]]:
    """`atlas verify`: the problems of each target (a render id, or a file by path; a number that
    names an existing file is the file), then of every render when `check_all`. Keyed by target.
    What is no problem but worth saying goes to `notes`."""
    results = {}
    for target in targets:
        if str(target).isdigit() and not Path(target).exists():
            results[str(target)] = verify_render(catalogue, int(target), notes)
        else:
            results[str(target)] = verify_file(catalogue, target, notes)
    if check_all:
        with catalogue.session() as session:
            ids = session.exec(select(Render.id).order_by(col(Render.id))).all()
        for render_id in ids:
            results[str(render_id)] = verify_render(catalogue, render_id, notes)
    return results


# --- The store against the catalogue: orphans (files without a row) and rows without their file ---

MISSING_TAG = "file-missing"  # how a render whose store file is gone is marked (`tag:file-missing`)
DEFAULT_GRACE_S = 900.0  # files younger than this may belong to a writer still at work: left alone
BATCH = 1000


@dataclass
class StoreReport:
    """What one pass over the store found (and, when repairing, did)."""

    files: int = 0
    rows: int = 0
    orphans: list[str] = field(default_factory=list)  # store paths no render row names
    removed: list[str] = field(default_factory=list)  # of those, removed (repair)
    young: int = 0  # orphans left alone: younger than the grace period (a writer may be committing)
    missing: list[int] = field(default_factory=list)  # render ids whose store file is gone
    marked: list[int] = field(default_factory=list)  # of those, newly tagged MISSING_TAG (repair)
    unmarked: list[int] = field(default_factory=list)  # renders whose file is back: tag removed (repair)
    pending: list[int] = field(default_factory=list)  # renders whose producing pass is still running


def _rows_by_path(connection, dialect: str):
    """(store path, render id, producing pass running?, tagged missing?) of every stored render, in
    byte order of the path, streamed in batches: memory stays bounded however many rows there are."""
    order = 'r.store_path COLLATE "C"' if dialect == "postgresql" else "r.store_path"
    sql = text(
        "SELECT r.store_path, r.id, "
        "EXISTS (SELECT 1 FROM pass p WHERE p.render_id = r.id AND p.status = 'running'), "
        "EXISTS (SELECT 1 FROM tag t WHERE t.render_id = r.id AND t.name = :tag) "
        f"FROM render r WHERE r.store_path IS NOT NULL ORDER BY {order}")
    result = connection.execution_options(stream_results=True, yield_per=BATCH).execute(sql, {"tag": MISSING_TAG})
    for path, render_id, running, tagged in result:
        yield path, render_id, bool(running), bool(tagged)


def scan_store(catalogue: Catalogue, repair: bool = False, grace_s: float = DEFAULT_GRACE_S) -> StoreReport:
    """One pass over the store, merged with the catalogue's store paths (both in the same sorted
    order: `Store.walk` and the streamed query), so neither side is held in memory.

    A file no row names is an orphan (a writer killed between its write and its commit, or a temp
    file of an interrupted write); with `repair`, orphans older than `grace_s` are removed. A row
    whose file is gone is reported and, with `repair`, tagged `file-missing` (never deleted: its
    record and lineage stay, and `tag:file-missing` finds them); the tag goes once the file is back.
    A row whose producing pass is still running is being written right now: only reported."""
    report = StoreReport()
    now = time.time()
    to_mark: list[int] = []
    to_unmark: list[int] = []

    def orphan(rel: str, path: Path) -> None:
        report.orphans.append(rel)
        if not repair:
            return
        try:
            young = now - path.stat().st_mtime < grace_s
        except FileNotFoundError:  # gone meanwhile (a temp file renamed)
            return
        if young:
            report.young += 1
            return
        path.unlink(missing_ok=True)
        report.removed.append(rel)

    with catalogue.engine.connect() as connection:
        rows = _rows_by_path(connection, catalogue.engine.dialect.name)
        files = catalogue.store.walk()
        row = next(rows, None)
        file = next(files, None)
        while row is not None or file is not None:
            if row is not None and (file is None or row[0] < file[0]):
                report.rows += 1
                _, render_id, running, tagged = row
                if running:
                    report.pending.append(render_id)
                else:
                    report.missing.append(render_id)
                    if not tagged:
                        to_mark.append(render_id)
                row = next(rows, None)
            elif file is not None and (row is None or file[0] < row[0]):
                report.files += 1
                orphan(*file)
                file = next(files, None)
            elif row is not None:
                report.rows += 1
                report.files += 1
                if row[3]:
                    to_unmark.append(row[1])
                # two rows cannot name one path (sha256 is unique), so both sides move on
                row, file = next(rows, None), next(files, None)
    if repair:
        _set_missing_tags(catalogue, to_mark, to_unmark)
        report.marked, report.unmarked = to_mark, to_unmark
    return report


def _set_missing_tags(catalogue: Catalogue, mark: list[int], unmark: list[int]) -> None:
    for start in range(0, max(len(mark), len(unmark)), BATCH):
        with catalogue.session() as session:
            for render_id in mark[start:start + BATCH]:
                session.add(Tag(render_id=render_id, name=MISSING_TAG))
            chunk = unmark[start:start + BATCH]
            if chunk:
                session.exec(delete(Tag).where(col(Tag.name) == MISSING_TAG, col(Tag.render_id).in_(chunk)))
            session.commit()


def store_problems(report: StoreReport, repair: bool, list_missing: bool = True) -> tuple[list[str], list[str]]:
    """(problems, notes) of a store scan, as lines for the user: problems make `verify` exit 1.
    `list_missing=False` leaves out missing files that a per-render check already reported."""
    problems, notes = [], []
    removed = set(report.removed)
    for rel in report.orphans:
        if rel in removed:
            notes.append(f"store/{rel}: no render names this file: removed")
        else:
            problems.append(f"store/{rel}: no render names this file (orphan)"
                            + ("; younger than the grace period, left for now" if repair else
                               "; `atlas verify --all --repair-orphans` removes it"))
    marked = set(report.marked)
    for render_id in report.missing if list_missing or repair else ():
        problems.append(f"render {render_id}: its store file is missing"
                        + (f" (tagged {MISSING_TAG})" if render_id in marked else ""))
    for render_id in report.unmarked:
        notes.append(f"render {render_id}: its file is back in the store: tag {MISSING_TAG} removed")
    for render_id in report.pending:
        notes.append(f"render {render_id}: its pass is still running (or was killed: `atlas run --resume` "
                     "clears it); its file is not written yet")
    return problems, notes
