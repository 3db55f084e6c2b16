"""Import renders made by other tools: each file becomes a render with an `import` pass per sampling pass.

Files are read and hashed in worker processes (`importers.reader`), written to the catalogue in
batches (one transaction each). A known sha256 is a duplicate and returns the existing render;
an unchanged file (same path, size and mtime as at its last import) is not read again. Source
files are only ever opened for reading. Copies go into the store (mode "copy"); with mode "link"
the render points at the source file instead.
"""

import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Table, insert
from sqlmodel import Session, col, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.retry import retrying
from atlas.core.catalogue.tables import Pass, Render, utcnow
from atlas.core.errors import BadInput
from atlas.core.files.regular import check_regular
from atlas.core.importers.reader import EXTENSIONS, FileFacts, read_file
from atlas.core.importers.tools import has_values
from atlas.core.importers.workers import die_with

MODES = ("copy", "link")
BATCH = 500  # files per transaction
IN_CHUNK = 500  # values per SQL IN (...) list
SAME_FILE_RETRIES = 3  # another importer may commit a file of the batch first, each time a new one
NO_METADATA = "no_generation_metadata"  # the report's key for files catalogued without generation values
NO_METADATA_FOUND = "no generation metadata found"  # the reason when a file simply has none
RENDER_TABLE: Table = Render.__table__  # type: ignore[attr-defined]
PASS_TABLE: Table = Pass.__table__  # type: ignore[attr-defined]


@dataclass
class ImportReport:
    """What became of each file. A file catalogued without a single generation value is not an
    import like the others: it is counted apart (still catalogued), with the reason when its
    metadata was there but unreadable."""

    imported: list[dict] = field(default_factory=list)  # {path, id, tool}
    no_metadata: list[dict] = field(default_factory=list)  # {path, id, reason}
    skipped: list[dict] = field(default_factory=list)  # {path, id, reason}
    unreadable: list[dict] = field(default_factory=list)  # {path, reason}

    @property
    def metadata_unreadable(self) -> int:
        """Of `no_metadata`, the files whose metadata a tool wrote but atlas could not read."""
        return sum(1 for entry in self.no_metadata if entry.get("reason") != NO_METADATA_FOUND)

    def to_dict(self) -> dict:
        return {"imported": self.imported, NO_METADATA: self.no_metadata, "skipped": self.skipped,
                "unreadable": self.unreadable,
                "counts": {"imported": len(self.imported), NO_METADATA: len(self.no_metadata),
                           "metadata_unreadable": self.metadata_unreadable,
                           "skipped": len(self.skipped), "unreadable": len(self.unreadable)}}

    def summary(self) -> str:
        unreadable_metadata = self.metadata_unreadable
        apart = f" ({unreadable_metadata} with metadata atlas could not read)" if unreadable_metadata else ""
        return (f"imported {len(self.imported)}, no generation metadata {len(self.no_metadata)}{apart}, "
                f"skipped {len(self.skipped)}, unreadable {len(self.unreadable)}")


def find_files(paths, recursive: bool = False) -> list[Path]:
    """The files to import: files named as they are; image files inside folders (sub-folders if recursive).

    A path that does not exist is bad input, reported before anything is imported.
    """
    missing = [str(p) for p in paths if not os.path.lexists(p)]
    if missing:
        raise BadInput(f"no such file or folder: {', '.join(missing)}")
    found, seen = [], set()
    for p in map(Path, paths):
        if p.is_dir():
            candidates = sorted(_walk(p, recursive))
        else:
            check_regular(p)  # a named FIFO, device, loop or dangling link: exit 2 before any work
            candidates = [p]
        for f in candidates:
            try:  # FIFOs, devices, loops and dangling links inside folders are read, and refused, by the reader
                key = f.resolve() if f.is_file() else f.absolute()
            except (OSError, RuntimeError):  # a symlink loop
                key = f.absolute()
            if key not in seen:
                seen.add(key)
                found.append(key)
    return found


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _unchanged(session: Session, files: list[Path]) -> tuple[list[Path], list[dict]]:
    """Split `files` into those to read and those whose last import saw the same size and mtime."""
    todo, skipped = [], []
    for chunk in _chunks(files, IN_CHUNK):
        known = {}
        rows = session.exec(select(Render.source_path, Render.size_bytes, Render.source_mtime_ns, Render.id)
                            .where(col(Render.source_path).in_([str(f) for f in chunk])).order_by(col(Render.id)))
        for path, size, mtime, render_id in rows:
            known[path] = (size, mtime, render_id)  # the latest import of the path wins
        for f in chunk:
            seen = known.get(str(f))
            if seen is not None:
                st = f.stat()
                if (st.st_size, st.st_mtime_ns) == seen[:2]:
                    skipped.append({"path": str(f), "id": seen[2], "reason": "unchanged since its last import"})
                    continue
            todo.append(f)
    return todo, skipped


def _pass_rows(facts: FileFacts, render_id: int, now) -> list[dict]:
    """The import pass of a file, and for a multi-pass file (a hires fix, a refiner) one more `import`
    pass per earlier sampling pass, all on the file's render: each pass's seed, model, ... is then what
    search matches. The earlier passes carry their `position` (0 = the first sampling pass) and no run;
    the pass that made the file has none, as for any import (`tables.produces_render`). Every pass of a
    multi-pass file says which it was in settings["pass"]; only the last keeps the raw metadata and
    the file's Content Credentials (settings["c2pa"]).
    """
    gen = facts.generation if has_values(facts.generation) else None
    row = {"kind": "import", "status": "completed", "render_id": render_id, "started": now, "ended": now,
           "prompt": "", "negative_prompt": "", "seed": None, "sampler": None, "steps": None, "cfg": None,
           "denoise": None, "width": None, "height": None, "position": None,
           "settings": {"source": facts.path}, "raw_metadata": facts.raw,
           "software": {"imported_from": gen.tool} if gen else {}}  # the record's software values are strings
    if gen is None:
        if facts.problem:
            row["settings"]["metadata_problem"] = facts.problem
        if facts.c2pa:
            row["settings"]["c2pa"] = facts.c2pa
        return [row]
    rows = []
    for position, step in enumerate([*gen.earlier, gen]):
        rows.append({**row, "prompt": step.prompt, "negative_prompt": step.negative_prompt, "seed": step.seed,
                     "sampler": step.sampler, "steps": step.steps, "cfg": step.cfg, "denoise": step.denoise,
                     "width": step.width, "height": step.height,
                     "position": position if step is not gen else None,
                     "settings": {**step.settings, "tool": step.tool, "source": facts.path},
                     "raw_metadata": facts.raw if step is gen else None})
    if facts.problem:
        rows[-1]["settings"]["metadata_problem"] = facts.problem
    if facts.c2pa:
        rows[-1]["settings"]["c2pa"] = facts.c2pa
    return rows


def _render_row(facts: FileFacts, mode: str) -> dict:
    return {"sha256": facts.sha256, "format": facts.format, "width": facts.width, "height": facts.height,
            "size_bytes": facts.size, "created": facts.created,
            "tool": (facts.generation.tool if facts.generation else None) or "unknown",
            "store_path": facts.store_path if mode == "copy" else None,
            "linked_path": facts.path if mode == "link" else None,
            "source_path": facts.path, "source_mtime_ns": facts.mtime_ns}


def _write_batch(catalogue: Catalogue, batch: list[FileFacts], mode: str, report: ImportReport) -> list[int]:
    """One transaction for a batch of read files; returns the ids of the renders it made."""
    readable = [f for f in batch if f.error is None]
    for f in batch:
        if f.error is not None:
            report.unreadable.append({"path": f.path, "reason": f.error})
    if not readable:
        return []
    new_files = [f.store_path for f in readable if f.store_created and f.store_path]
    try:
        if new_files:
            os.sync()  # the copies are on disk before the catalogue points at them (outside the write lock)
        fresh, duplicates, ids, known, stored = _insert_retried(catalogue, readable, mode)
    except BaseException:
        for rel in new_files:  # nothing committed: take back the copies this batch made
            catalogue.store.remove(rel)
        raise
    for f, rid in zip(fresh, ids, strict=False):
        if has_values(f.generation):
            report.imported.append({"path": f.path, "id": rid, "tool": _render_row(f, mode)["tool"]})
        else:
            report.no_metadata.append({"path": f.path, "id": rid,
                                       "reason": f.problem or NO_METADATA_FOUND})
    fresh_shas = {f.sha256 for f in fresh}
    for f in duplicates:
        # The known render is linked, or stored elsewhere: this copy is not needed. When the copy is
        # the very file the known render points at (another importer committed it first), it stays.
        if f.store_created and f.store_path and f.sha256 not in fresh_shas and stored.get(f.sha256) != f.store_path:
            catalogue.store.remove(f.store_path)
        rid = known[f.sha256]
        report.skipped.append({"path": f.path, "id": rid, "reason": f"same file (sha256) as render {rid}"})
    return ids


def _insert_retried(catalogue: Catalogue, readable: list[FileFacts], mode: str):
    """`_insert`, run again while another writer is in the way, or after another importer committed
    one of the same files first (its sha256 is then known: the file becomes a duplicate)."""
    return retrying(lambda: _insert(catalogue, readable, mode), catalogue.engine, conflicts=SAME_FILE_RETRIES)


def _insert(catalogue: Catalogue, readable: list[FileFacts], mode: str):
    """The rows of a batch, as bulk INSERTs (SQLAlchemy Core, RETURNING the ids in order): building
    ORM objects row by row would cost more than reading the files. Returns (fresh files, duplicates,
    their render ids, sha256 -> render id, sha256 -> store path of the renders already known)."""
    with catalogue.session() as session:
        known: dict[str | None, int | None] = {}  # every readable file has its sha256
        stored: dict[str | None, str | None] = {}
        shas = sorted({f.sha256 for f in readable if f.sha256})
        for chunk in _chunks(shas, IN_CHUNK):
            rows = session.exec(select(Render.sha256, Render.id, Render.store_path)
                                .where(col(Render.sha256).in_(chunk))).all()
            known.update((sha, rid) for sha, rid, _ in rows)
            stored.update((sha, path) for sha, _, path in rows)
        fresh, duplicates = [], []
        for f in readable:
            if f.sha256 in known:
                duplicates.append(f)
            else:
                known[f.sha256] = None  # a second copy within the batch is a duplicate of this one
                fresh.append(f)
        ids = []
        if fresh:
            # Core inserts on the tables: the ORM's bulk path costs more than the rows themselves.
            renders, passes = RENDER_TABLE, PASS_TABLE
            ids = list(session.scalars(insert(renders).returning(renders.c.id, sort_by_parameter_order=True),
                                       [_render_row(f, mode) for f in fresh]))
            now = utcnow()
            session.execute(insert(passes), [row for f, rid in zip(fresh, ids, strict=False)
                                             for row in _pass_rows(f, rid, now)])
            known.update((f.sha256, rid) for f, rid in zip(fresh, ids, strict=False))
        session.commit()
    return fresh, duplicates, ids, known, stored


def _walk(folder: Path, recursive: bool) -> list[Path]:
    """Image-named entries that are not folders; an unreadable sub-folder is listed too, so the
    reader reports it like any other unreadable file instead of it being skipped without a word."""
    out: list[Path] = []
    for root, dirs, files in os.walk(folder, onerror=lambda exc: out.append(Path(exc.filename))):  # noqa: B023
        out += [Path(root, name) for name in files if Path(name).suffix.lower() in EXTENSIONS]
        if not recursive:
            dirs.clear()
    return out


def import_paths(catalogue: Catalogue, paths, recursive: bool = False, mode: str = "copy", progress=None,
                 workers: int | None = None, batch: int = BATCH) -> ImportReport:
    """Import files and folders; bad files are reported with their reasons and do not stop the rest.

    `progress(done, total)` is called as files are read. `workers` defaults to the CPU count.
    """
    if mode not in MODES:
        raise BadInput(f"import mode must be one of {', '.join(MODES)}, got {mode!r}")
    files = find_files(paths, recursive)
    report = ImportReport()
    with catalogue.session() as session:
        todo, report.skipped = _unchanged(session, files)
    total, done = len(todo), 0
    if progress:
        progress(0, total)
    store_root = str(catalogue.store.root) if mode == "copy" else None
    workers = workers or os.cpu_count() or 1
    pool = None
    if workers > 1 and total > 16:
        pool = ProcessPoolExecutor(max_workers=workers, initializer=die_with, initargs=(os.getpid(),))
    try:
        results: Iterator[FileFacts]
        if pool is None:
            results = (read_file(str(f), store_root) for f in todo)
        else:
            chunksize = max(1, min(64, total // (workers * 8) or 1))
            results = pool.map(read_file, [str(f) for f in todo], [store_root] * total, chunksize=chunksize)
        pending = []
        for facts in results:
            pending.append(facts)
            done += 1
            if len(pending) >= batch:
                _write_batch(catalogue, pending, mode, report)
                pending = []
            if progress:
                progress(done, total)
        _write_batch(catalogue, pending, mode, report)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return report


def import_file(catalogue: Catalogue, path, mode: str = "copy") -> Render:
    """Import one file; returns its render (the existing one when the same bytes are already there).

    Raises BadInput, naming the reason, for a file that cannot be imported.
    """
    if mode not in MODES:
        raise BadInput(f"import mode must be one of {', '.join(MODES)}, got {mode!r}")
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    path = path.resolve()
    facts = read_file(str(path), str(catalogue.store.root) if mode == "copy" else None)
    if facts.error:
        raise BadInput(f"{path}: {facts.error}")
    report = ImportReport()
    _write_batch(catalogue, [facts], mode, report)
    render_id = (report.imported or report.no_metadata or report.skipped)[0]["id"]
    with catalogue.session() as session:
        return session.get(Render, render_id)

