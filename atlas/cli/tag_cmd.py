"""`atlas tag ID... +tag -tag`: add and remove tags on renders."""

import click

from atlas.cli.common import echo_json, json_option, open_catalogue
from atlas.core.errors import BadInput


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("items", nargs=-1, required=True)
@json_option
@click.pass_context
def tag(ctx, items, as_json):
    """Tag renders: atlas tag 12 15 +best +commons -wip  (no +/-: list the tags)."""
    from sqlmodel import select

    from atlas.core.catalogue.tables import Tag
    from atlas.core.record.build import get_render
    from atlas.core.record.tags import check_tag, set_tags

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
    catalogue = open_catalogue(ctx)
    result = {}
    with catalogue.session() as session:
        for render_id in ids:
            get_render(session, render_id)  # every id checked before anything changes
        for render_id in ids:
            set_tags(session, render_id, add=add, remove=remove)
        session.commit()
        for render_id in ids:
            result[render_id] = list(session.exec(select(Tag.name).where(Tag.render_id == render_id)
                                                   .order_by(Tag.name)))
    if as_json:
        echo_json([{"id": k, "tags": v} for k, v in result.items()])
        return
    for render_id, names in result.items():
        click.echo(f"{render_id}: {' '.join(names) if names else '(no tags)'}")
