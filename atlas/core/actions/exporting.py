"""Renders out to Wikimedia Commons: the upload-ready export and the description page alone."""

from pathlib import Path

from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.tables import flushed_id
from atlas.core.commons import export as commons_export
from atlas.core.commons import page as commons_page
from atlas.core.errors import BadInput
from atlas.core.record.build import get_render
from atlas.core.search import sql

QUERY_LIMIT = 10_000  # renders one export by query may hold


def matching_ids(catalogue: Catalogue, query: str, limit: int = QUERY_LIMIT) -> list[int]:
    """The renders `atlas export --query` exports: those matching `query`, at most `limit`."""
    with catalogue.session() as session:
        total = sql.count(session, query)
        if total > limit:
            raise BadInput(f"--query matches {total} renders; export at most {limit} at once")
        ids = [flushed_id(render) for render in sql.search(session, query, limit=limit)]
    if not ids:
        raise BadInput(f"--query {query!r} matches no render")
    return ids


def export(catalogue: Catalogue, to_dir, render_ids=(), query: str | None = None, fmt: str = "png",
           name_template: str | None = None, *, categories=None, descriptions: dict | None = None,
           redact=None, strip: bool = False) -> list[dict]:
    """Export renders upload-ready into `to_dir` (see `atlas.core.commons.export`): those named by
    id, or those matching `query`. `redact`: facts to leave out (None: config `[export] redact`);
    `strip`: images with no metadata. Returns one row per file."""
    if bool(render_ids) == bool(query):
        raise BadInput("give render ids or --query, not both and not neither")
    ids = matching_ids(catalogue, query) if query else list(render_ids)
    return commons_export.export(catalogue, ids, to_dir, fmt, name_template, categories=categories,
                                 descriptions=descriptions, redact_fields=redact, strip=strip)


def export_render(catalogue: Catalogue, render_id: int, to_dir: Path) -> tuple[list[dict], str | None]:
    """Export one render as PNG into `to_dir`; returns the export rows and the Commons page written."""
    with catalogue.session() as session:
        get_render(session, render_id)
    to_dir = Path(to_dir).expanduser()
    if to_dir.exists() and not to_dir.is_dir():
        raise BadInput(f"{to_dir} exists and is not a folder")
    rows = export(catalogue, to_dir, [render_id])
    pages = [Path(row["wikitext"]) for row in rows if row.get("wikitext")]
    page_text = pages[0].read_text(encoding="utf-8") if pages and pages[0].is_file() else None
    return rows, page_text


def wikitext(catalogue: Catalogue, render_id: int | str) -> str:
    """The Commons description page of a render, with the home's config and template overrides."""
    config = catalogue.home.config()
    with catalogue.session() as session:
        return commons_page.page(session, get_render(session, render_id), config,
                                 user_templates=catalogue.home.templates)
