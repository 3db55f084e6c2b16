"""The row every listing shows (a render with the pass that produced it) and its printed form.

Read by `rows` (SQLAlchemy) and `plain` (the SQLite reader of `atlas search` and `atlas list`); no
SQLAlchemy here, so a read command can build rows without loading it.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

PAGE_SIZE = 100
# The columns a listing may sort by (the TUI's column sort): registry fields.
SORTS = ("id", "created", "size", "model", "sampler", "steps", "cfg", "seed", "licence", "prompt", "rating")


@dataclass(frozen=True)
class Row:
    id: int
    created: datetime
    width: int
    height: int
    model: str | None
    sampler: str | None
    steps: int | None
    cfg: float | None
    seed: int | None
    licence: str | None
    prompt: str
    kind: str | None
    negative_prompt: str
    denoise: float | None
    format: str
    tool: str
    author: str | None
    sha256: str
    store_path: str | None  # the file, as `Catalogue.file_of` reads it
    linked_path: str | None
    rating: int | None = None
    hidden: bool = False
    seed_text: str | None = None  # a seed beyond the 64-bit column, as an import kept it (settings["seed"])
    tags: tuple[str, ...] = ()  # filled only when `page` is asked for them

    @property
    def any_seed(self) -> int | None:
        """The seed, whether in the column or kept as text."""
        if self.seed is not None:
            return self.seed
        return int(self.seed_text) if self.seed_text and self.seed_text.lstrip("-").isdigit() else None


def summary(row: Row, path: Path | None) -> dict:
    """One row as the flat dict `atlas search --json` prints (`path`: the row's file)."""
    return {
        "id": row.id, "created": row.created.isoformat(), "width": row.width, "height": row.height,
        "format": row.format, "tool": row.tool, "author": row.author, "licence": row.licence, "sha256": row.sha256,
        "path": str(path) if path else None, "kind": row.kind, "prompt": row.prompt,
        "negative_prompt": row.negative_prompt, "seed": row.any_seed, "sampler": row.sampler, "steps": row.steps,
        "cfg": row.cfg, "denoise": row.denoise, "model": row.model, "rating": row.rating,
        "hidden": bool(row.hidden), "tags": list(row.tags),
    }
