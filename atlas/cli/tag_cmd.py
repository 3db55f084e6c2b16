"""`atlas tag ID... +tag -tag`: add and remove tags on renders."""

import click

from atlas.cli.common import echo, echo_json, json_option, open_catalogue
from atlas.core.errors import BadInput


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("items", nargs=-1, required=True)
@json_option
@click.pass_context
def tag(ctx, items, as_json):
    """Tag renders: atlas tag 12 15 +best +commons -wip  (no +/-: list the tags)."""
    from atlas.core.actions import tagging
    from atlas.core.record.tags import check_tag

    ids, add, remove = [], [], []
    for item in items:
        if item[:1] == "+":
            add.append(check_tag(item[1:]))
        elif item[:1] == "-":
            remove.append(check_tag(item[1:]))
        elif item.isdigit():
            ids.append(int(item))
        else:
            raise BadInput(f"{item!r} is neither a render id nor +tag / -tag")
    if not ids:
        raise BadInput("name at least one render id")
    result = tagging.tag(open_catalogue(ctx), ids, add=add, remove=remove)
    if as_json:
        echo_json([{"id": k, "tags": v} for k, v in result.items()])
        return
    for render_id, names in result.items():
        echo(f"{render_id}: {' '.join(names) if names else '(no tags)'}")
