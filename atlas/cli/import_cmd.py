"""`atlas import PATH...`: take in renders made by A1111, ComfyUI, InvokeAI, NovelAI, Fooocus, ..."""

import click

from atlas.cli.common import echo, echo_json, open_catalogue


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--recursive", "-r", is_flag=True, help="Descend into sub-folders.")
@click.option("--copy", "mode", flag_value="copy", default=True, help="Copy files into the store (default).")
@click.option("--link", "mode", flag_value="link", help="Leave files where they are and point at them.")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Reader processes (default: CPU count).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def import_command(ctx, paths, recursive, mode, workers, as_json):
    """Import image files (PNG, JPEG, WebP) with the generation metadata their tool wrote.

    Duplicates (same bytes) and unchanged files are skipped; unreadable files are reported with the
    reason and do not stop the import. Files with no generation metadata are catalogued and counted
    apart. Source files are never modified. Exit code 1 when any file
    could not be read.
    """
    from atlas.cli.progress import count_progress
    from atlas.core.importers.batch import find_files, import_paths

    find_files(paths, recursive)  # missing paths: exit 2 before the catalogue is touched
    catalogue = open_catalogue(ctx)
    with count_progress("importing", "files", enabled=not as_json) as progress:
        report = import_paths(catalogue, paths, recursive=recursive, mode=mode, progress=progress,
                              workers=workers)
    if as_json:
        echo_json(report.to_dict())
    else:
        for item in report.unreadable:
            echo(f"unreadable: {item['path']}: {item['reason']}", err=True)
        echo(report.summary())
    if report.unreadable:
        from atlas.core.errors import AtlasError

        raise AtlasError(f"{len(report.unreadable)} file(s) could not be imported (reasons above)")
