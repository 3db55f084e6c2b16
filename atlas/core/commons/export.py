"""Export renders upload-ready for Wikimedia Commons.

Per render: `NAME.<ext>` (the image with its record embedded), `NAME.wikitext` (the description
page) and `NAME.provenance.json`; per export: `batch.jsonl` (one row per file, paths relative to
the folder) and `upload.py` (pywikibot). Everything is checked first (ids, format, name template,
folder) and written into a staging folder inside DIR, then moved into place, so a failure leaves
DIR as it was.

Exports add up: a second export into DIR appends its rows to `batch.jsonl`, and a name already
taken there (by any export's image or sidecar) is numbered, `NAME (2).png`, never overwritten. A
staging folder is named after its process (`.atlas-export-PID@HOST.XXXX`): one left by a killed
export is removed by the next export into DIR once that process is gone.

`redact` (see atlas.core.record.redact) leaves facts out of everything written: one redacted
record feeds the image's metadata, its signature, the page, the provenance JSON and the batch row.
`strip` writes the image with no metadata at all.
"""

import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.store import sha256_file
from atlas.core.catalogue.tables import Licence, Model, Render, flushed_id
from atlas.core.commons import filenames, sdc
from atlas.core.commons import page as commons
from atlas.core.errors import AtlasError, BadInput
from atlas.core.files.encode import already_embedded, encode_bare, encode_export, export_png_file, image_only_png
from atlas.core.record.build import build, get_render, producing_pass
from atlas.core.record.redact import REDACTED_MODEL_NAME, parse_fields, redact
from atlas.core.resources import data_dir
from atlas.core.trust import keys
from atlas.core.trust.signing import training_for

ENCODER_FORMATS = {"png": "png", "jpg": "jpeg", "webp": "webp"}
STAGING_PREFIX = ".atlas-export-"
BATCH = "batch.jsonl"
STALE_STAGING_S = 24 * 3600  # a staging folder of another host (or unnamed) this old is abandoned


@dataclass
class Planned:
    render: Render
    record: dict  # as exported: redacted when the export redacts
    root: int  # the first pass of its lineage: renders sharing it are versions of one image
    stem: str
    ext: str

    @property
    def filename(self) -> str:
        return f"{self.stem}.{self.ext}"


def _name_fields(render: Render, record: dict) -> dict:
    """Name fields from the exported record: a redacted fact cannot come back through a file name."""
    first = record["lineage"][0] if record["lineage"] else {}
    prompt = " ".join((first.get("prompt") or "").split())
    model = (first.get("model") or {}).get("name")
    return {"title": record["render"].get("title") or prompt[:80] or "AI-generated image", "id": render.id,
            "seed": first.get("seed"), "width": render.width, "height": render.height,
            "prompt": prompt, "model": None if model == REDACTED_MODEL_NAME else model,
            "date": render.created.strftime("%Y-%m-%d"), "sha": render.sha256[:12]}


def _source_path(catalogue: Catalogue, render: Render) -> Path:
    path = catalogue.file_of(render)
    if path is None:
        raise AtlasError(f"render {render.id}: its file cannot be read (none is recorded)")
    if not path.is_file():
        raise AtlasError(f"render {render.id}: its file cannot be read (no file at {path})")
    return path


def _source_bytes(catalogue: Catalogue, render: Render) -> bytes:
    path = _source_path(catalogue, render)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AtlasError(f"render {render.id}: its file cannot be read ({exc})") from None


def _as_png(data: bytes, render: Render) -> bytes:
    """The pixels of a stored JPEG/WebP (an import) as a PNG, which the encoder starts from."""
    if render.format == "png":
        return data
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as opened:
            image: Image.Image = opened
            if image.mode not in ("1", "L", "LA", "I", "P", "RGB", "RGBA"):  # CMYK, YCbCr...
                image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            out = io.BytesIO()
            image.save(out, format="PNG")
            return out.getvalue()
    except (OSError, ValueError) as exc:
        raise AtlasError(f"render {render.id}: its {render.format} file cannot be decoded ({exc})") from None


def _write_image(catalogue: Catalogue, item: Planned, fmt: str, sign_with, path: Path, strip: bool = False) -> str:
    """Write the exported image to `path`; returns its sha256.

    A PNG render exported as PNG is streamed (never held in memory); whose metadata is already
    current comes back byte for byte (its signature intact). A stripped or redacted export starts
    from the pixels alone (the render's own chunks, signature included, carry the full record).
    """
    training = training_for(catalogue, item.record, sign_with) if sign_with is not None else None
    if strip or item.record.get("redacted"):
        pixels = image_only_png(_as_png(_source_bytes(catalogue, item.render), item.render),
                                what=f"render {item.render.id}")
        if strip:
            image = encode_bare(pixels, ENCODER_FORMATS[fmt])
        else:  # signed afresh, with no ingredient: the render's manifest would carry what is redacted
            image = encode_export(pixels, item.record, ENCODER_FORMATS[fmt], sign_with=sign_with, parent=False,
                                  training=training)
        _write(path, image)
        return hashlib.sha256(image).hexdigest()
    if fmt == "png" and item.render.format == "png":
        source = _source_path(catalogue, item.render)
        record = item.record
        if "catalogue" in record and already_embedded(source, _without_catalogue(record)):
            record = _without_catalogue(record)  # a render from before catalogue uuids: copied, signature intact
        try:
            export_png_file(source, path, record, what=f"render {item.render.id}")
        except OSError as exc:
            raise _cannot_write(path.parent.parent, exc) from None
        return sha256_file(path)
    data = _as_png(_source_bytes(catalogue, item.render), item.render)
    image = encode_export(data, item.record, ENCODER_FORMATS[fmt], sign_with=sign_with, training=training)
    _write(path, image)
    return hashlib.sha256(image).hexdigest()


def _without_catalogue(record: dict) -> dict:
    return {key: value for key, value in record.items() if key != "catalogue"}


def _summary(item: Planned) -> str:
    model = next((p["model"]["name"] for p in item.record["lineage"]
                  if p.get("model") and p["model"]["name"] != REDACTED_MODEL_NAME), None)
    made = f" with {model}" if model else ""
    return (f"AI-generated image{made}, {item.render.width}x{item.render.height}, "
            f"uploaded from atlas (render {item.render.id}) with its full provenance")


def _check_folder(to_dir) -> Path:
    target = Path(to_dir).expanduser()
    if target.exists() and not target.is_dir():
        raise BadInput(f"--to {to_dir}: exists and is not a folder")
    return target.resolve()


def _lineage_root(session: Session, render_id: int, roots: dict[int, int]) -> int:
    """The first pass of the render's lineage (renders sharing it are versions of one image).

    Remembered per render, so a batch of many renders of one lineage walks it once, not once each.
    """
    walked: list[int] = []
    current: int | None = render_id
    root = -render_id  # a render without passes is its own root
    seen: set[int] = set()
    while current is not None and current not in seen:
        if current in roots:
            root = roots[current]
            break
        seen.add(current)
        walked.append(current)
        step = producing_pass(session, current)
        if step is None:
            break
        root, current = flushed_id(step), step.input_render_id
    for rid in walked:
        roots[rid] = root
    return root


def taken_stems(folder: Path) -> set[str]:
    """The names (without extension) that files in `folder` already use: an image, its page or its
    provenance JSON. A new export's file may use none of them, or it would overwrite a sidecar."""
    stems: set[str] = set()
    try:
        entries = [entry.name for entry in os.scandir(folder)]
    except FileNotFoundError:
        return stems
    except OSError as exc:
        raise _cannot_write(folder, exc) from None
    for name in entries:
        for suffix in (".provenance.json", ".wikitext"):
            if name.endswith(suffix):
                stems.add(name[: -len(suffix)])
                break
        else:
            stems.add(name.rpartition(".")[0] or name)
    return stems


def plan(session: Session, render_ids, fmt: str, name_template: str | None, *, redacted=(),
         taken=()) -> list[Planned]:
    """Renders, records and unique file names: everything decided before a byte is written.

    `redacted`: the facts the exported records leave out; `taken`: stems already used in the
    folder (see `taken_stems`), which new names are numbered around."""
    ext = filenames.extension(fmt)
    filenames.check_template(name_template or filenames.DEFAULT_TEMPLATE)
    ids = list(dict.fromkeys(render_ids))
    if not ids:
        raise BadInput("nothing to export: give render ids or a query that matches some")
    batch, out = filenames.Batch(), []
    batch.taken.update(batch.key(f"{stem}.{ext}") for stem in taken)
    # The session's identity map holds objects weakly: keeping the (few) models and licences alive
    # lets every record of the batch find them there instead of querying them once per pass.
    pinned = [*session.exec(select(Model)).all(), *session.exec(select(Licence)).all()]
    roots: dict[int, int] = {}
    for render_id in ids:
        render = get_render(session, render_id)
        root = _lineage_root(session, flushed_id(render), roots)
        record = redact(build(session, render), redacted)
        name = batch.unique(filenames.build(_name_fields(render, record), name_template, ext))
        out.append(Planned(render, record, root, name[: -len(ext) - 1], ext))
    del pinned
    return out


def _cannot_write(to_dir, exc: OSError) -> BadInput:
    return BadInput(f"--to {to_dir}: cannot write there ({exc.strerror or exc})")


def _write(path: Path, data: bytes | str) -> None:
    # No fsync per file: the staging folder is renamed into place only when all of it is written.
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise _cannot_write(path.parent.parent, exc) from None


def _inside(folder: Path, name: str) -> Path:
    path = folder / name
    if path.resolve().parent != folder.resolve():  # belt and braces: names never hold separators
        raise AtlasError(f"refusing file name {name!r}: it would leave {folder}")
    return path


def _publish(staging: Path, target: Path, names: list[str], replaceable=(BATCH, "upload.py")) -> None:
    """Move the staged files into `target`; on failure put back what was there before.

    Only `replaceable` files (the batch, grown by this export, and the upload script) may replace
    what is there: an image or sidecar that appeared since planning (another export at the same
    moment) stops the publish rather than being overwritten."""
    moved: list[Path] = []
    backups: list[tuple[Path, Path]] = []
    try:
        for name in names:
            final = _inside(target, name)
            if name not in replaceable and os.path.lexists(final):
                raise BadInput(f"--to {target}: {name} appeared there while exporting; export again to "
                               "number around it")
            if final.exists():
                backup = staging / f".old-{len(backups)}"
                os.replace(final, backup)
                backups.append((backup, final))
            os.replace(staging / name, final)
            moved.append(final)
    except BaseException:
        for final in moved:
            final.unlink(missing_ok=True)
        for backup, final in backups:
            os.replace(backup, final)
        raise


def redaction_default(config: dict) -> list[str]:
    """The `[export] redact` setting: the facts every export leaves out unless told otherwise."""
    setting = (config.get("export") or {}).get("redact")
    try:
        return parse_fields(setting)
    except ValueError as exc:
        raise BadInput(f"config [export] redact: {exc}") from None


def _page_config(config: dict, redacted: list[str]) -> dict:
    # The page falls back on the configured author's name and Commons user: not when author is redacted.
    return {**config, "author": {}} if "author" in redacted else config


def export(catalogue: Catalogue, render_ids, to_dir, fmt: str = "png", name_template: str | None = None, *,
           categories=None, descriptions: dict | None = None, redact_fields=None, strip: bool = False) -> list[dict]:
    """Export `render_ids` into `to_dir`; returns one row per file (absolute paths).

    `redact_fields` ("prompt,seed", a list, or None for the config's `[export] redact`) are left out
    of every file written; `strip` writes the images with no metadata at all."""
    fmt = {"jpeg": "jpg"}.get(str(fmt).lower(), str(fmt).lower())
    target = _check_folder(to_dir)
    config = catalogue.home.config()
    try:
        redacted = redaction_default(config) if redact_fields is None else parse_fields(redact_fields)
    except ValueError as exc:
        raise BadInput(f"--redact: {exc}") from None
    with catalogue.session() as session:
        remove_stale_staging(target)
        items = plan(session, render_ids, fmt, name_template, redacted=redacted, taken=taken_stems(target))
        commons.check_languages(descriptions)
        commons.check_categories(categories)
        # JPEG and WebP get Content Credentials of their own when signing is on; a PNG keeps the
        # render's, unless redaction means it is written anew (then it is signed anew).
        sign_with = None if fmt == "png" and not redacted else keys.signing_identity(catalogue.home)
        env = commons.environment(catalogue.home.templates)
        page_config = _page_config(config, redacted)
        created = not target.exists()
        try:
            target.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=staging_prefix(), dir=target))
        except OSError as exc:
            raise _cannot_write(to_dir, exc) from None
        try:
            rows: list[dict[str, Any]] = []
            names: list[str] = []
            versions: dict[int, list[str]] = {}
            for item in items:
                versions.setdefault(item.root, []).append(item.filename)
            for item in items:
                others = [name for name in versions[item.root] if name != item.filename]
                page = commons.page(session, item.render, page_config, categories, other_versions=others,
                                    descriptions=descriptions, record=item.record, env=env)
                files = {"path": item.filename, "wikitext": f"{item.stem}.wikitext",
                         "provenance": f"{item.stem}.provenance.json"}
                digest = _write_image(catalogue, item, fmt, sign_with, _inside(staging, files["path"]), strip)
                _write(_inside(staging, files["wikitext"]), page)
                _write(_inside(staging, files["provenance"]),
                       json.dumps(item.record, ensure_ascii=False, indent=2) + "\n")
                names += files.values()
                rows.append({**files, "filename": item.filename, "summary": _summary(item),
                             "render_id": item.render.id, "sha256": digest,
                             "format": ENCODER_FORMATS[fmt],
                             # from the exported record and page config: nothing redacted comes back here
                             "sdc": sdc.structured_data(item.record, page_config, descriptions),
                             **({"redacted": item.record["redacted"]} if item.record.get("redacted") else {}),
                             **({"stripped": True} if strip else {})})
            try:
                shutil.copyfile(_upload_script(catalogue), staging / "upload.py")
                # Read last, just before publishing: the rows of an export into this folder stay.
                _write(staging / BATCH, _earlier_rows(target) + "".join(
                    json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
                _publish(staging, target, names + [BATCH, "upload.py"])
            except OSError as exc:
                raise _cannot_write(to_dir, exc) from None
        except BaseException:
            _abandon(staging, target, created)
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return [{**r, **{k: str(target / r[k]) for k in ("path", "wikitext", "provenance")}} for r in rows]


def _earlier_rows(target: Path) -> str:
    """The batch.jsonl already in `target` (earlier exports' rows), ending in a newline, or ""."""
    try:
        text = (target / BATCH).read_bytes().decode("utf-8")
    except FileNotFoundError:
        return ""
    except UnicodeDecodeError:
        raise BadInput(f"--to {target}: its {BATCH} is not UTF-8 text; move it away to export there") from None
    except OSError as exc:
        raise _cannot_write(target, exc) from None
    return text if not text or text.endswith("\n") else text + "\n"


def staging_prefix() -> str:
    return f"{STAGING_PREFIX}{os.getpid()}@{socket.gethostname()}."


def _owner(name: str) -> tuple[int, str] | None:
    """(pid, host) of the export that made staging folder `name`, or None for another name."""
    pid, at, rest = name.removeprefix(STAGING_PREFIX).partition("@")
    host = rest.rpartition(".")[0]
    return (int(pid), host) if at and pid.isdigit() and host else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_staging(target: Path, now: float | None = None) -> list[str]:
    """Remove the staging folders in `target` left by exports that were killed: those of a process
    on this host that is gone; those of another host (or of an older naming) after STALE_STAGING_S.
    Returns their names."""
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = [e for e in os.scandir(target) if e.name.startswith(STAGING_PREFIX)]
    except OSError:  # no folder yet, or unreadable: the export reports that itself
        return removed
    host = socket.gethostname()
    for entry in entries:
        try:
            if not entry.is_dir(follow_symlinks=False):
                continue
            owner = _owner(entry.name)
            if owner is not None and owner[1] == host:
                stale = owner[0] != os.getpid() and not _alive(owner[0])
            else:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > STALE_STAGING_S
        except OSError:
            continue
        if stale:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _abandon(staging: Path, target: Path, created: bool) -> None:
    shutil.rmtree(staging, ignore_errors=True)
    if created:
        try:
            target.rmdir()  # only when empty: never remove what someone else put there
        except OSError:
            pass


def _upload_script(catalogue: Catalogue) -> Path:
    user = catalogue.home.templates / "export" / "upload.py"
    return user if user.is_file() else data_dir("templates") / "export" / "upload.py"
