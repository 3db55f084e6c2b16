import click

from atlas.cli.common import echo, echo_json, json_option, open_catalogue
from atlas.core.errors import BadInput


@click.command()
@click.argument("render_ids", nargs=-1)
@click.option("--query", "-q", help="Export the renders matching this search query instead of ids.")
@click.option("--to", "to_dir", required=True, type=click.Path(), help="Folder to write the export into.")
@click.option("--format", "fmt", type=click.Choice(["png", "jpg", "jpeg", "webp"], case_sensitive=False), default="png",
              show_default=True, help="Image format; metadata is embedded in each.")
@click.option("--name", "name_template",
              help="File name template, e.g. '{title} ({id})'. Fields: title id seed width height prompt "
                   "model date sha.")
@click.option("--category", "categories", multiple=True,
              help="Extra Commons category for every page (repeatable), beside the configured ones.")
@click.option("--description", "descriptions", multiple=True, metavar="LANG=TEXT",
              help="The description in another language (repeatable), e.g. de='Eine Stadt'.")
@click.option("--redact", "redact", metavar="FIELDS",
              help="Leave these facts out of every file written (images, pages, provenance, batch), comma-"
                   "separated: prompt,negative,seed,author,paths,models, or all; 'none' for none. Default: "
                   "config [export] redact. The catalogue keeps everything.")
@click.option("--strip", is_flag=True,
              help="Write the images with no metadata at all (pages and provenance files follow --redact).")
@json_option
@click.pass_context
def export(ctx, render_ids, query, to_dir, fmt, name_template, categories, descriptions, redact, strip, as_json):
    """Write renders upload-ready for Wikimedia Commons: image, description page, provenance, batch."""
    if not to_dir.strip():  # "" would quietly mean the current folder
        raise BadInput("--to needs a folder to write the export into")
    languages = {}
    for entry in descriptions:
        lang, sep, text = entry.partition("=")
        if not sep or not text.strip():
            raise BadInput(f"--description {entry!r}: write it as LANG=TEXT, e.g. de='Eine Stadt'")
        languages[lang.strip()] = text
    from atlas.core.actions import exporting
    from atlas.core.record.redact import parse_fields

    fields = None
    if redact is not None:
        try:
            fields = [] if redact.strip().lower() == "none" else parse_fields(redact)
        except ValueError as exc:
            raise BadInput(f"--redact: {exc}") from None
    rows = exporting.export(open_catalogue(ctx), to_dir, render_ids, query, fmt.lower(), name_template,
                            categories=list(categories), descriptions=languages, redact=fields, strip=strip)
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        echo(f"{row['render_id']:>6}  {row['path']}")
    redacted = sorted({field for row in rows for field in row.get("redacted", [])})
    extra = f"; left out: {', '.join(redacted)}" if redacted else ""
    extra += "; images stripped of metadata" if strip else ""
    echo(f"exported {len(rows)} render{'s' if len(rows) != 1 else ''} to {to_dir} "
         f"(batch.jsonl, upload.py{extra})", err=True)
