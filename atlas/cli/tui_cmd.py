import click

from atlas.cli.common import open_catalogue


@click.command()
@click.option("--images", type=click.Choice(["auto", "halfcell"]), default=None,
              help="Preview rendering: auto (sixel/kitty graphics where the terminal has them, else "
                   "half blocks) or halfcell (half blocks, any terminal). Default: $ATLAS_TUI_IMAGES or auto.")
@click.pass_context
def tui(ctx, images):
    """Browse, search and inspect the catalogue in the terminal."""
    from atlas.tui.app import BUSY_TIMEOUT_S, AtlasApp

    catalogue = open_catalogue(ctx, busy_timeout=BUSY_TIMEOUT_S)
    # textual-image asks the terminal what graphics it supports when first imported: that must
    # happen before Textual owns the terminal, or the query and the app fight over stdin.
    import textual_image.widget  # noqa: F401

    AtlasApp(catalogue, image_mode=images).run()
