import click

from atlas.cli.common import echo_json, json_option, open_catalogue
from atlas.core.errors import AtlasError, BadInput


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--all", "check_all", is_flag=True, help="Verify every render in the catalogue.")
@json_option
@click.pass_context
def verify(ctx, targets, check_all, as_json):
    """Check renders (by ID) or files (by path): sha256, embedded record, C2PA signature.

    Prints one line per problem and exits 1 when any is found.
    """
    from pathlib import Path

    from sqlmodel import select

    from atlas.core.actions.verify import verify_file, verify_render
    from atlas.core.catalogue.tables import Render

    if not targets and not check_all:
        raise BadInput("name render ids or files to verify, or use --all")
    catalogue = open_catalogue(ctx)
    results = {}
    for target in targets:
        if target.isdigit() and not Path(target).exists():
            results[target] = verify_render(catalogue, int(target))
        else:
            results[target] = verify_file(catalogue, target)
    if check_all:
        with catalogue.session() as session:
            ids = session.exec(select(Render.id).order_by(Render.id)).all()
        for render_id in ids:
            results[str(render_id)] = verify_render(catalogue, render_id)
    problems = [p for found in results.values() for p in found]
    if as_json:
        echo_json({"ok": not problems, "checked": list(results), "problems": problems})
    else:
        for problem in problems:
            click.echo(problem)
        if not problems:
            click.echo(f"ok: {len(results)} checked, no problems")
    if problems:
        raise AtlasError(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found")
