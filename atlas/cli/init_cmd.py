import click

from atlas.cli.common import echo_json, json_option, open_catalogue


@click.command()
@json_option
@click.pass_context
def init(ctx, as_json):
    """Create the atlas home and its catalogue (every command also does this on first use)."""
    catalogue = open_catalogue(ctx)
    from atlas.core.catalogue.licences import sync_builtin

    with catalogue.session() as session:
        sync_builtin(session)
        session.commit()
    facts = {"home": str(catalogue.home.root), "database": catalogue.engine.url.render_as_string(),
             "store": str(catalogue.store.root)}
    if as_json:
        echo_json(facts)
    else:
        for key, value in facts.items():
            click.echo(f"{key}: {value}")
