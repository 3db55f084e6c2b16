import click

from atlas.cli.common import echo_json, json_option, open_catalogue


@click.command()
@json_option
@click.pass_context
def init(ctx, as_json):
    """Create the atlas home and its catalogue (every command also does this on first use)."""
    from atlas.core.actions.setup import initialise

    facts = initialise(open_catalogue(ctx))
    if as_json:
        echo_json(facts)
    else:
        for key, value in facts.items():
            click.echo(f"{key}: {value}")
