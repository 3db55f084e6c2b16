import click

from atlas.cli.common import echo, echo_json, json_option, open_catalogue
from atlas.core.errors import AtlasError, BadInput


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--all", "check_all", is_flag=True,
              help="Verify every render in the catalogue, and the store against it (files no render names).")
@click.option("--repair-orphans", is_flag=True,
              help="Remove store files no render names, and tag renders whose file is missing `file-missing`.")
@click.option("--grace", "grace_s", type=click.FloatRange(min=0), default=900, show_default=True,
              help="Seconds: an orphan younger than this is left alone (a writer may still be committing it).")
@json_option
@click.pass_context
def verify(ctx, targets, check_all, repair_orphans, grace_s, as_json):
    """Check renders (by ID) or files (by path): sha256, embedded record, C2PA signature.

    With --all, also walks the store once: a file no render names is an orphan, a render whose
    store file is gone is missing. --repair-orphans removes the orphans (older than --grace) and
    tags the missing renders `file-missing` (they are kept: `atlas search tag:file-missing`).
    A file that is no render's stored file is checked as an export of the render its record names
    (record, pixels, signature; facts it says it redacted are noted, not counted), or, when its
    record names another catalogue, on its own record and signature. A damaged file (a bad CRC)
    is a problem. Prints one line per problem and exits 1 when any is found; 2 when an argument is
    no render and no image file.
    """
    from atlas.core.actions.verify import scan_store, store_problems, verify_targets

    if repair_orphans and not check_all:
        raise BadInput("--repair-orphans works on the whole store: use it with --all")
    if not targets and not check_all:  # before the catalogue is opened: nothing is created
        raise BadInput("name render ids or files to verify, or use --all")
    catalogue = open_catalogue(ctx)
    notes: list[str] = []
    results = verify_targets(catalogue, targets, check_all, notes)
    problems = [p for found in results.values() for p in found]
    report = None
    if check_all:
        report = scan_store(catalogue, repair=repair_orphans, grace_s=grace_s)
        found, store_notes = store_problems(report, repair_orphans, list_missing=False)
        problems += found
        notes += store_notes
    if as_json:
        out = {"ok": not problems, "checked": list(results), "problems": problems}
        if report is not None or notes:
            out["notes"] = notes
            out["store"] = {"files": report.files, "orphans": report.orphans, "removed": report.removed,
                            "missing": report.missing, "marked": report.marked, "pending": report.pending}
        echo_json(out)
    else:
        for line in notes + problems:
            echo(line)
        if not problems:
            echo(f"ok: {len(results)} checked, no problems")
    if problems:
        raise AtlasError(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found")
