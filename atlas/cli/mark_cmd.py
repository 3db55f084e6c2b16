"""`atlas rate ID... N`, `atlas hide ID...`, `atlas unhide ID...`: a person's judgement of renders."""

import click

from atlas.cli.common import echo, echo_json, json_option, open_catalogue
from atlas.core.errors import BadInput


def render_ids(items) -> list[int]:
    """The render ids of a command line, or BadInput naming the word that is not one."""
    ids = []
    for item in items:
        if not item.isdigit():
            raise BadInput(f"{item!r} is not a render id")
        ids.append(int(item))
    if not ids:
        raise BadInput("name at least one render id")
    return ids


@click.command()
@click.argument("items", nargs=-1, required=True)
@json_option
@click.pass_context
def rate(ctx, items, as_json):
    """Rate renders 1 to 5 stars (0 takes the rating away): atlas rate 12 15 4"""
    from atlas.core.actions import marking

    if len(items) < 2:
        raise BadInput("give the render ids, then the stars: atlas rate 12 15 4")
    stars = marking.check_rating(items[-1])
    result = marking.rate(open_catalogue(ctx), render_ids(items[:-1]), stars)
    if as_json:
        echo_json([{"id": k, "rating": v} for k, v in result.items()])
        return
    for render_id, rating in result.items():
        echo(f"{render_id}: {'unrated' if rating is None else '*' * rating}")


def _hiding(hidden: bool):
    verb = "hide" if hidden else "unhide"
    doc = ("Hide renders: left out of every search that does not name `hidden` (atlas unhide shows them)."
           if hidden else "Show hidden renders in searches again.")

    @click.command(verb, help=doc)
    @click.argument("items", nargs=-1, required=True)
    @json_option
    @click.pass_context
    def command(ctx, items, as_json):
        from atlas.core.actions import marking

        result = marking.hide(open_catalogue(ctx), render_ids(items), hidden)
        if as_json:
            echo_json([{"id": k, "hidden": v} for k, v in result.items()])
            return
        for render_id in result:
            echo(f"{render_id}: {'hidden' if hidden else 'shown'}")

    return command


hide = _hiding(True)
unhide = _hiding(False)
