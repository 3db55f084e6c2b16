"""The catalogue's tables: licences, models, renders, passes, runs and tags (DESIGN.md, "The record").

A render is one stored file. A pass is one step of work that made a render from zero or one input
render; following `Pass.input_render_id` back gives the lineage. A run is one execution of a recipe.
"""

from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint, and_, false, or_
from sqlmodel import Field, SQLModel, col

# 64-bit integers: BIGINT on PostgreSQL (int4 overflows with imported seeds and ns mtimes); SQLite's
# INTEGER is 64-bit already, and keeping it there spares a table rebuild on upgrade.
BigInt = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Licence(SQLModel, table=True):
    __tablename__ = "licence"

    id: str = Field(primary_key=True)  # HF licence id (models) or SPDX id (outputs)
    name: str
    url: str
    kind: str  # model | output
    spdx: str | None = None  # null for RAIL licences: SPDX lists none, and we never invent one
    commons_template: str | None = None
    summary: str = ""
    output_rights: str = ""
    restrictions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Model(SQLModel, table=True):
    __tablename__ = "model"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str  # checkpoint | upscaler
    source: str  # what the user gave: a folder, a file, a hub id
    path: str | None = None  # where atlas loads it from (null for hub ids loaded through the cache)
    format: str  # diffusers | single-file | spandrel
    sha256: str = Field(index=True)  # of the weights: one file's digest, or a digest over the sorted weight files
    short_hash: str  # A1111's: the first 10 hex digits of the weights file's sha256
    licence_id: str = Field(foreign_key="licence.id")
    demo: bool = False  # atlas-built random weights: never mistaken for a real model
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    added: datetime = Field(default_factory=utcnow)


class ModelFile(SQLModel, table=True):
    """Where one machine (`host`) keeps the weights of the model with this sha256 (models/README in
    record/models.py): a model is one row across a team, each machine maps its hash to its own file."""

    __tablename__ = "model_file"
    __table_args__ = (UniqueConstraint("sha256", "host", name="uq_model_file_sha256_host"),)

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(index=True)
    host: str
    path: str
    added: datetime = Field(default_factory=utcnow)


class Run(SQLModel, table=True):
    __tablename__ = "run"

    id: int | None = Field(default=None, primary_key=True)
    recipe_name: str | None = None
    recipe: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = "running"  # running | completed | interrupted | failed
    error: str | None = Field(default=None, sa_column=Column(Text))
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)
    final_render_id: int | None = Field(default=None, foreign_key="render.id")
    # Who is running it now (atlas.core.catalogue.claims): one process at a time, on any machine.
    claim_token: str | None = None
    claim_host: str | None = None
    claim_pid: int | None = None
    claimed_at: datetime | None = None
    heartbeat_at: datetime | None = None


class Render(SQLModel, table=True):
    __tablename__ = "render"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True)
    format: str  # png | jpeg | webp
    width: int = Field(index=True)
    height: int = Field(index=True)
    size_bytes: int = Field(sa_type=BigInt)
    created: datetime = Field(default_factory=utcnow, index=True)
    title: str | None = None
    description: str | None = Field(default=None, sa_column=Column(Text))
    author: str | None = Field(default=None, index=True)
    licence_id: str | None = Field(default=None, foreign_key="licence.id", index=True)
    tool: str = Field(default="atlas", index=True)  # the program that made the file
    # Where the bytes are: the store path (relative to the store) or, for linked imports, the source.
    store_path: str | None = None
    linked_path: str | None = None
    # For imports: the file it came from, its mtime; an unchanged file (path, size, mtime) is not read again.
    source_path: str | None = Field(default=None, index=True)
    source_mtime_ns: int | None = Field(default=None, sa_type=BigInt)
    # Set when atlas signed the file (migrations/versions/0005_signatures.py): the signer's common
    # name and certificate fingerprint, and the sha256 of the manifest store embedded.
    signed_by: str | None = None
    signer_sha256: str | None = None
    manifest_hash: str | None = None
    # A person's judgement (actions/marking.py): 1..5 stars or None, and hidden from searches that
    # do not ask for hidden renders (search/sql.py, `Query.names_hidden`).
    rating: int | None = Field(default=None, index=True)
    hidden: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Pass(SQLModel, table=True):
    __tablename__ = "pass"
    __table_args__ = (Index("ix_pass_run_position", "run_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(index=True)  # txt2img | img2img | outpaint | upscale | import
    status: str = "running"  # running | completed | interrupted | failed
    error: str | None = Field(default=None, sa_column=Column(Text))
    render_id: int | None = Field(default=None, foreign_key="render.id", index=True)  # the output
    input_render_id: int | None = Field(default=None, foreign_key="render.id", index=True)
    run_id: int | None = Field(default=None, foreign_key="run.id", index=True)
    position: int | None = None  # index of the pass within its run's expanded pass list

    prompt: str = Field(default="", sa_column=Column(Text, nullable=False))
    negative_prompt: str = Field(default="", sa_column=Column(Text, nullable=False))
    seed: int | None = Field(default=None, index=True, sa_type=BigInt)  # 64-bit: imported seeds
    sampler: str | None = Field(default=None, index=True)
    steps: int | None = Field(default=None, index=True)  # requested
    steps_run: int | None = None  # actually run (img2img runs fewer, see DESIGN.md)
    cfg: float | None = Field(default=None, index=True)
    width: int | None = None  # processing size
    height: int | None = None
    denoise: float | None = None
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    model_id: int | None = Field(default=None, foreign_key="model.id", index=True)
    upscaler_id: int | None = Field(default=None, foreign_key="model.id")
    software: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    device: str | None = None
    started: datetime = Field(default_factory=utcnow)
    ended: datetime | None = None
    # For imports: the metadata exactly as found in the file, keyed by chunk/tag name.
    raw_metadata: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


def produces_render(step=Pass):
    """SQL condition: `step` (Pass or an alias) is the pass that produced its render. An import of a
    multi-pass file (a hires fix) also records the earlier sampling passes on the render, as `import`
    passes with a `position` and no run (see importers/batch.py); they did not make the file."""
    return and_(col(step.status) == "completed", or_(col(step.kind) != "import", col(step.position).is_(None)))


class Tag(SQLModel, table=True):
    __tablename__ = "tag"

    render_id: int = Field(foreign_key="render.id", primary_key=True)
    name: str = Field(primary_key=True, index=True)


class CatalogueIdentity(SQLModel, table=True):
    """One row: this catalogue's random id, made once (migration 0005) and embedded in every record,
    so a file from another catalogue is told apart from a local render that has the same id."""

    __tablename__ = "catalogue_identity"

    uuid: str = Field(primary_key=True)


class _Row(Protocol):
    @property
    def id(self) -> int | None: ...


def flushed_id(row: _Row) -> int:
    """The id of a row the database has seen (read back, or added and flushed); a new row has none yet."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: it was never flushed to the database")
    return row.id
