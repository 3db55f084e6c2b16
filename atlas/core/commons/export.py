"""Export renders upload-ready for Wikimedia Commons.

Per render: `NAME.<ext>` (the image with its record embedded), `NAME.wikitext` (the description
page) and `NAME.provenance.json`; per export: `batch.jsonl` (one row per file, paths relative to
the folder) and `upload.py` (pywikibot). Everything is checked first (ids, format, name template,
folder) and written into a staging folder inside DIR, then moved into place, so a failure leaves
DIR as it was.
"""

import hashlib
import json
import os
import shutil
import tempfile
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
from atlas.core.files.encode import encode_export, export_png_file
from atlas.core.record.build import build, get_render, producing_pass
from atlas.core.resources import data_dir
from atlas.core.trust import keys

ENCODER_FORMATS = {"png": "png", "jpg": "jpeg", "webp": "webp"}
STAGING_PREFIX = ".atlas-export-"


@dataclass
class Planned:
    render: Render
    record: dict
    root: int  # the first pass of its lineage: renders sharing it are versions of one image
    stem: str
    ext: str

    @property
    def filename(self) -> str:
        return f"{self.stem}.{self.ext}"


def _name_fields(render: Render, record: dict) -> dict:
    first = record["lineage"][0] if record["lineage"] else {}
    prompt = " ".join((first.get("prompt") or "").split())
    return {"title": render.title or prompt[:80] or "AI-generated image", "id": render.id,
            "seed": first.get("seed"), "width": render.width, "height": render.height,
            "prompt": prompt, "model": (first.get("model") or {}).get("name"),
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


def _write_image(catalogue: Catalogue, item: Planned, fmt: str, sign_with, path: Path) -> str:
    """Write the exported image to `path`; returns its sha256.

    A PNG render exported as PNG is streamed (never held in memory); whose metadata is already
    current comes back byte for byte (its signature intact).
    """
    if fmt == "png" and item.render.format == "png":
        source = _source_path(catalogue, item.render)
        try:
            export_png_file(source, path, item.record, what=f"render {item.render.id}")
        except OSError as exc:
            raise _cannot_write(path.parent.parent, exc) from None
        return sha256_file(path)
    data = _as_png(_source_bytes(catalogue, item.render), item.render)
    image = encode_export(data, item.record, ENCODER_FORMATS[fmt], sign_with=sign_with)
    _write(path, image)
    return hashlib.sha256(image).hexdigest()


def _summary(item: Planned) -> str:
    model = next((p["model"]["name"] for p in item.record["lineage"] if p.get("model")), None)
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


def plan(session: Session, render_ids, fmt: str, name_template: str | None) -> list[Planned]:
    """Renders, records and unique file names: everything decided before a byte is written."""
    ext = filenames.extension(fmt)
    filenames.check_template(name_template or filenames.DEFAULT_TEMPLATE)
    ids = list(dict.fromkeys(render_ids))
    if not ids:
        raise BadInput("nothing to export: give render ids or a query that matches some")
    batch, out = filenames.Batch(), []
    # The session's identity map holds objects weakly: keeping the (few) models and licences alive
    # lets every record of the batch find them there instead of querying them once per pass.
    pinned = [*session.exec(select(Model)).all(), *session.exec(select(Licence)).all()]
    roots: dict[int, int] = {}
    for render_id in ids:
        render = get_render(session, render_id)
        root = _lineage_root(session, flushed_id(render), roots)
        record = build(session, render)
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


def _publish(staging: Path, target: Path, names: list[str]) -> None:
    """Move the staged files into `target`; on failure put back what was there before."""
    moved: list[Path] = []
    backups: list[tuple[Path, Path]] = []
    try:
        for name in names:
            final = _inside(target, name)
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


def export(catalogue: Catalogue, render_ids, to_dir, fmt: str = "png", name_template: str | None = None, *,
           categories=None, descriptions: dict | None = None) -> list[dict]:
    """Export `render_ids` into `to_dir`; returns one row per file (absolute paths)."""
    fmt = {"jpeg": "jpg"}.get(str(fmt).lower(), str(fmt).lower())
    target = _check_folder(to_dir)
    config = catalogue.home.config()
    with catalogue.session() as session:
        items = plan(session, render_ids, fmt, name_template)
        commons.check_languages(descriptions)
        commons.check_categories(categories)
        # JPEG and WebP get Content Credentials of their own when signing is on (PNG keeps the render's).
        sign_with = None if fmt == "png" else keys.signing_identity(catalogue.home)
        env = commons.environment(catalogue.home.templates)
        created = not target.exists()
        try:
            target.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=target))
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
                page = commons.page(session, item.render, config, categories, other_versions=others,
                                    descriptions=descriptions, record=item.record, env=env)
                files = {"path": item.filename, "wikitext": f"{item.stem}.wikitext",
                         "provenance": f"{item.stem}.provenance.json"}
                digest = _write_image(catalogue, item, fmt, sign_with, _inside(staging, files["path"]))
                _write(_inside(staging, files["wikitext"]), page)
                _write(_inside(staging, files["provenance"]),
                       json.dumps(item.record, ensure_ascii=False, indent=2) + "\n")
                names += files.values()
                rows.append({**files, "filename": item.filename, "summary": _summary(item),
                             "render_id": item.render.id, "sha256": digest,
                             "format": ENCODER_FORMATS[fmt],
                             "sdc": sdc.structured_data(item.record, config, descriptions)})
            _write(staging / "batch.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            try:
                shutil.copyfile(_upload_script(catalogue), staging / "upload.py")
                _publish(staging, target, names + ["batch.jsonl", "upload.py"])
            except OSError as exc:
                raise _cannot_write(to_dir, exc) from None
        except BaseException:
            _abandon(staging, target, created)
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return [{**r, **{k: str(target / r[k]) for k in ("path", "wikitext", "provenance")}} for r in rows]


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
