"""Models in the catalogue: registering one (`atlas model add`) and listing them."""

from sqlmodel import col, select

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import Model


def model_facts(row: Model) -> dict:
    return {"name": row.name, "kind": row.kind, "format": row.format, "source": row.source, "path": row.path,
            "sha256": row.sha256, "short_hash": row.short_hash, "licence": row.licence_id, "demo": row.demo}


def add(catalogue: Catalogue, source: str, name: str, licence_id: str | None, kind: str = "checkpoint",
        pipeline_config: str | None = None) -> dict:
    """Register `source` (a diffusers folder, a weights file or a hub id, downloaded into the home)."""
    from atlas.core.record import hub, models

    with catalogue.session() as session:
        path = hub.local_or_download(source, catalogue.home.models / name)
        config = {"pipeline_config": str(pipeline_config)} if pipeline_config else {}
        known = set(session.exec(select(Model.id)).all())
        row = models.register(session, str(path), name, licence_id, kind=kind, config=config)
        new = row.id not in known
        if new:
            row.source = source
        session.commit()
        # new: False when these weights were already registered (by this or another machine):
        # then only this machine's path for them was recorded (record/models.py).
        return {**model_facts(row), "new": new, "local_path": str(path.resolve())}


def registered(catalogue: Catalogue) -> list[dict]:
    """Every registered model, oldest first."""
    with catalogue.session() as session:
        return [model_facts(row) for row in session.exec(select(Model).order_by(col(Model.id)))]
