"""`atlas delete ID...`: remove renders from the catalogue (and their stored files), after asking."""

import sys

import click

from atlas.cli.common import echo, echo_json, json_option, open_catalogue
from atlas.cli.mark_cmd import render_ids
from atlas.core.errors import BadInput


@click.command()
@click.argument("items", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Do not ask first.")
@json_option
@click.pass_context
def delete(ctx, items, yes, as_json):
    """Delete renders with their passes and tags, and their stored files when no other render uses
    them. Renders made from them must be deleted in the same command. A linked file stays."""
    from atlas.core.actions import deleting

    ids = render_ids(items)
    catalogue = open_catalogue(ctx)
    plan = deleting.plan(catalogue, ids)  # NotFound, HasDescendants before anything is asked
    if not yes:
        if not sys.stdin.isatty():
            raise BadInput("atlas delete asks before deleting; with no terminal to ask on, pass --yes")
        files = f" and {len(plan.files)} stored file{'s' * (len(plan.files) != 1)}" if plan.files else ""
        click.confirm(f"delete render{'s' * (len(plan.render_ids) != 1)} "
                      f"{', '.join(map(str, plan.render_ids))}{files}?", abort=True, err=True)
    done = deleting.delete(catalogue, ids)
    if as_json:
        echo_json({"deleted": list(done.render_ids), "files_removed": list(done.files),
                   "linked_kept": list(done.linked)})
        return
    echo(f"deleted {len(done.render_ids)} render{'s' * (len(done.render_ids) != 1)}, "
         f"{len(done.files)} stored file{'s' * (len(done.files) != 1)}")
    for path in done.linked:
        echo(f"kept the linked file {path}")
