"""The model registry: checkpoints and upscalers with their hashes and licences.

A model is identified by the sha256 of its weights, the same on every machine of a team; it is one
`model` row in the shared catalogue. Each machine maps that hash to its own local file or folder:
a `model_file` row (sha256, host, path) written by `atlas model add` on that machine, or found by
scanning the `[models] search_paths` of its config (`resolve_local`). The mapping lives in the
catalogue, not in each home, so the team can see which machines hold which model (a queue can
send a job only where its model is). Hashing is cached per machine (hash_cache.py): a rescan
reads a file again only when its size or mtime changed.
"""

import hashlib
import os
import re
import socket
from pathlib import Path

from sqlmodel import Session, col, select

from atlas.core.catalogue import licences
from atlas.core.catalogue.store import sha256_file
from atlas.core.catalogue.tables import Model, ModelFile
from atlas.core.errors import AtlasError, BadInput, NotFound

WEIGHT_SUFFIXES = {".safetensors", ".ckpt", ".bin", ".pth", ".pt"}
SINGLE_FILE_SUFFIXES = {".safetensors", ".ckpt"}
DEMO_MODEL_NAME = "atlas-demo-tiny-sd"


def weights_digest(path: Path, file_digest=sha256_file) -> str:
    """sha256 of a weights file; for a folder, sha256 over each weights file's path and digest.
    `file_digest` hashes one file (a `HashCache` passes its cached one)."""
    if path.is_file():
        return file_digest(path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise BadInput(f"{path}: no weights files ({', '.join(sorted(WEIGHT_SUFFIXES))}) inside")
    outer = hashlib.sha256()
    for file in files:
        outer.update(f"{file.relative_to(path).as_posix()}\0{file_digest(file)}\n".encode())
    return outer.hexdigest()


def this_host() -> str:
    """This machine's name in `model_file` rows: `ATLAS_HOST`, else the host name."""
    return os.environ.get("ATLAS_HOST") or socket.gethostname()


def short_hash(sha256: str) -> str:
    """A1111's model hash: the first 10 hex digits of the weights' sha256."""
    return sha256[:10]


def card_licence(path: Path) -> str | None:
    """The `license:` of a model card (README.md front matter) beside the weights, if any."""
    card = (path if path.is_dir() else path.parent) / "README.md"
    if not card.is_file():
        return None
    text = card.read_text(encoding="utf-8", errors="replace")
    match = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.S)
    if not match:
        return None
    import yaml

    try:
        front = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError:
        return None
    value = front.get("license") if isinstance(front, dict) else None
    if value == "other":  # HF spells custom licences as license: other + license_name: ...
        value = front.get("license_name")
    return str(value) if value else None


def detect_format(path: Path, kind: str) -> str:
    if kind == "upscaler":
        return "spandrel"
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise BadInput(f"{path}: not a diffusers pipeline folder (no model_index.json)")
        return "diffusers"
    if path.suffix not in SINGLE_FILE_SUFFIXES:
        raise BadInput(f"{path}: a checkpoint file must be .safetensors or .ckpt")
    return "single-file"


def register(session: Session, source: str, name: str, licence_id: str | None, kind: str = "checkpoint",
             demo: bool = False, config: dict | None = None, file_digest=sha256_file) -> Model:
    """Hash and record a local model (folder or file). The licence comes from the card or the flag.

    Weights whose sha256 is already registered by another machine (this one has no path for them)
    or under this `name` add no second model: this machine's path is recorded for that hash and the
    existing model is returned (its name, licence and config stay as registered)."""
    if kind not in ("checkpoint", "upscaler"):
        raise BadInput(f"model kind must be checkpoint or upscaler, not {kind!r}")
    path = Path(source).expanduser()
    if not path.exists():
        raise BadInput(f"{source}: no such file or folder (hub ids need a download: see `atlas model add --help`)")
    path = path.resolve()
    fmt = detect_format(path, kind)
    digest = weights_digest(path, file_digest)
    known = session.exec(select(Model).where(Model.sha256 == digest).order_by(col(Model.id))).first()
    here = session.exec(select(ModelFile).where(ModelFile.sha256 == digest, ModelFile.host == this_host())).first()
    # Known weights: a machine without a copy yet (a colleague registered them) or the same name
    # again maps this path; the same machine naming its copy anew makes a second entry, as before
    # (another pipeline config or licence reading over the same weights).
    if known is not None and (here is None or known.name == name):
        if known.kind != kind:
            raise BadInput(f"{source}: these weights are registered as the {known.kind} {known.name!r}, "
                           f"not as a {kind}")
        set_local_path(session, digest, path)
        return known
    if session.exec(select(Model).where(Model.name == name)).first() is not None:
        raise BadInput(f"a model named {name!r} is already registered (with other weights)")
    licence_id = licence_id or card_licence(path)
    if not licence_id:
        raise BadInput(f"{source}: the model card names no licence; give one with --licence")
    licence = licences.get(session, licence_id)
    model = Model(name=name, kind=kind, source=source, path=str(path), format=fmt, sha256=digest,
                  short_hash=short_hash(digest), licence_id=licence.id, demo=demo, config=config or {})
    session.add(model)
    set_local_path(session, digest, path)
    session.flush()
    return model


def set_local_path(session: Session, sha256: str, path: Path, host: str | None = None) -> ModelFile:
    """Record (or move) where `host` (this machine) keeps the weights with `sha256`."""
    host = host or this_host()
    row = session.exec(select(ModelFile).where(ModelFile.sha256 == sha256, ModelFile.host == host)).first()
    if row is None:
        row = ModelFile(sha256=sha256, host=host, path=str(path))
        session.add(row)
    else:
        row.path = str(path)
    return row


class ModelMissing(AtlasError):
    """This machine has no file for a registered model: a worker refuses the job (another may have it)."""


def resolve_local(catalogue, sha256: str) -> Path:
    """This machine's file (or folder) of the model with `sha256`, checked to hash to it.

    Looked for in order: this host's `model_file` path, the path recorded when the model was
    registered (`model.path`, the single-machine case), then the `[models] search_paths` of the
    config, scanned by hash (each hit is recorded as this host's path, so the scan happens once).
    Hashes come from the home's hash cache: a file whose size and mtime are unchanged is not read.
    Raises ModelMissing naming the hash and the model when none is found."""
    from atlas.core.record.hash_cache import HashCache

    with catalogue.session() as session:
        model = session.exec(select(Model).where(Model.sha256 == sha256).order_by(col(Model.id))).first()
        host = this_host()
        mapped = session.exec(select(ModelFile.path).where(ModelFile.sha256 == sha256,
                                                            ModelFile.host == host)).first()
    label = f"model {model.name!r} (sha256 {sha256})" if model else f"model sha256 {sha256} (not registered)"
    cache = HashCache(catalogue.home.root / "model-hashes.json")
    candidates = [p for p in (mapped, model.path if model else None) if p]
    try:
        for candidate in candidates:
            path = Path(candidate)
            if path.exists() and _digest_or_none(path, cache) == sha256:
                return path
        found = _scan(catalogue.home.config().get("models", {}).get("search_paths", []), sha256, cache,
                      folder=model is not None and model.format == "diffusers")
    finally:
        cache.save()
    if found is not None:
        with catalogue.session() as session:
            set_local_path(session, sha256, found, host)
            session.commit()
        return found
    where = ", ".join(candidates) or "no path recorded for this machine"
    raise ModelMissing(f"{label} is not on this machine ({host}): looked at {where} and the "
                       "[models] search_paths of the config; run `atlas model add PATH --name NAME` here "
                       "with a copy of its weights")


def _digest_or_none(path: Path, cache) -> str | None:
    try:
        return weights_digest(path, cache.digest)
    except (BadInput, OSError):
        return None


def _scan(search_paths, sha256: str, cache, folder: bool) -> Path | None:
    """The first file (or, for diffusers models, folder holding a model_index.json) under the search
    paths whose weights hash to `sha256`."""
    for root in search_paths:
        root = Path(root).expanduser()
        if not root.is_dir():
            continue
        if folder:
            candidates = (p.parent for p in sorted(root.rglob("model_index.json")))
        else:
            candidates = (p for p in sorted(root.rglob("*")) if p.suffix in WEIGHT_SUFFIXES and p.is_file())
        for candidate in candidates:
            if _digest_or_none(candidate, cache) == sha256:
                return candidate.resolve()
    return None


def get(session: Session, name: str, kind: str | None = None) -> Model:
    query = select(Model).where(Model.name == name)
    if kind:
        query = query.where(Model.kind == kind)
    model = session.exec(query).first()
    if model is None:
        known = session.exec(select(Model.name).where(Model.kind == (kind or Model.kind))).all()
        raise NotFound(f"unknown model {name!r}; registered: {', '.join(known) or 'none'}")
    return model


def default_checkpoint(session: Session) -> Model | None:
    """The newest real checkpoint the user added, else the demo model (None if neither exists yet)."""
    rows = session.exec(select(Model).where(Model.kind == "checkpoint")
                        .order_by(col(Model.demo), col(Model.id).desc())).all()
    return rows[0] if rows else None
