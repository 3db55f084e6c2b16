import click

from atlas.cli.common import echo, echo_json, json_option, open_catalogue
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
    from atlas.core.actions.verify import verify_targets

    if not targets and not check_all:  # before the catalogue is opened: nothing is created
        raise BadInput("name render ids or files to verify, or use --all")
    results = verify_targets(open_catalogue(ctx), targets, check_all)
    problems = [p for found in results.values() for p in found]
    if as_json:
        echo_json({"ok": not problems, "checked": list(results), "problems": problems})
    else:
        for problem in problems:
            echo(problem)
        if not problems:
            echo(f"ok: {len(results)} checked, no problems")
    if problems:
        raise AtlasError(f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found")
