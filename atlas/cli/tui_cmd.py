import click

from atlas.cli.common import open_catalogue


@click.command()
@click.option("--images", type=click.Choice(["auto", "halfcell"]), default=None,
              help="Preview rendering: auto (sixel/kitty graphics where the terminal has them, else "
                   "half blocks) or halfcell (half blocks, any terminal). Default: $ATLAS_TUI_IMAGES or auto.")
@click.pass_context
def tui(ctx, images):
    """Browse, search and inspect the catalogue in the terminal."""
    from atlas.tui import graphics

    # Asked in a child process while this one loads the app (atlas.tui.graphics says why).
    mode = images or graphics.default_mode()
    probe = graphics.Probe(mode)
    from atlas.core.actions.browsing import DeferredCatalogue, readable
    from atlas.core.catalogue.home import Home
    from atlas.tui.app import BUSY_TIMEOUT_S, AtlasApp
    from atlas.tui.quick_start import QuickStartApp

    home = Home.resolve(ctx.find_root().obj.get("home"))
    if readable(home):
        # At the schema head: the first screen is read with sqlite3 and SQLAlchemy loads after it.
        catalogue = DeferredCatalogue(home, BUSY_TIMEOUT_S)
        ctx.call_on_close(catalogue.close)
        app = QuickStartApp(catalogue, image_mode=mode)
    else:  # a new home, a migration to run, PostgreSQL: opened (and reported) here, as before
        app = AtlasApp(open_catalogue(ctx, busy_timeout=BUSY_TIMEOUT_S), image_mode=mode)
    graphics.use(probe.answers())  # before Textual reads the terminal: the child is done with it
    app.run()
