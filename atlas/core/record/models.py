"""The model registry: checkpoints and upscalers with their hashes and licences."""

import hashlib
import re
from pathlib import Path

from sqlmodel import Session, col, select

from atlas.core.catalogue import licences
from atlas.core.catalogue.store import sha256_file
from atlas.core.catalogue.tables import Model
from atlas.core.errors import BadInput, NotFound

WEIGHT_SUFFIXES = {".safetensors", ".ckpt", ".bin", ".pth", ".pt"}
SINGLE_FILE_SUFFIXES = {".safetensors", ".ckpt"}
DEMO_MODEL_NAME = "atlas-demo-tiny-sd"


def weights_digest(path: Path) -> str:
    """sha256 of a weights file; for a folder, sha256 over each weights file's path and digest."""
    if path.is_file():
        return sha256_file(path)
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in WEIGHT_SUFFIXES)
    if not files:
        raise BadInput(f"{path}: no weights files ({', '.join(sorted(WEIGHT_SUFFIXES))}) inside")
    outer = hashlib.sha256()
    for file in files:
        outer.update(f"{file.relative_to(path).as_posix()}\0{sha256_file(file)}\n".encode())
    return outer.hexdigest()


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
             demo: bool = False, config: dict | None = None) -> Model:
    """Hash and record a local model (folder or file). The licence comes from the card or the flag."""
    if kind not in ("checkpoint", "upscaler"):
        raise BadInput(f"model kind must be checkpoint or upscaler, not {kind!r}")
    if session.exec(select(Model).where(Model.name == name)).first() is not None:
        raise BadInput(f"a model named {name!r} is already registered")
    path = Path(source).expanduser()
    if not path.exists():
        raise BadInput(f"{source}: no such file or folder (hub ids need a download: see `atlas model add --help`)")
    path = path.resolve()
    fmt = detect_format(path, kind)
    licence_id = licence_id or card_licence(path)
    if not licence_id:
        raise BadInput(f"{source}: the model card names no licence; give one with --licence")
    licence = licences.get(session, licence_id)
    digest = weights_digest(path)
    model = Model(name=name, kind=kind, source=source, path=str(path), format=fmt, sha256=digest,
                  short_hash=short_hash(digest), licence_id=licence.id, demo=demo, config=config or {})
    session.add(model)
    session.flush()
    return model


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
