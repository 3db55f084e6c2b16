import click

from atlas.cli.common import open_catalogue


@click.command()
@click.option("--images", type=click.Choice(["auto", "halfcell"]), default=None,
              help="Preview rendering: auto (sixel/kitty graphics where the terminal has them, else "
                   "half blocks) or halfcell (half blocks, any terminal). Default: $ATLAS_TUI_IMAGES or auto.")
@click.pass_context
def tui(ctx, images):
    """Browse, search and inspect the catalogue in the terminal."""
    import textual.app  # noqa: F401  (before the probe below: the two threads then import no module in common)

    probe = TerminalProbe()
    from atlas.core.actions.browsing import DeferredCatalogue, readable
    from atlas.core.catalogue.home import Home
    from atlas.tui.app import BUSY_TIMEOUT_S, AtlasApp
    from atlas.tui.quick_start import QuickStartApp

    home = Home.resolve(ctx.find_root().obj.get("home"))
    if readable(home):
        # At the schema head: the first screen is read with sqlite3 and SQLAlchemy loads after it.
        catalogue = DeferredCatalogue(home, BUSY_TIMEOUT_S)
        ctx.call_on_close(catalogue.close)
        app = QuickStartApp(catalogue, image_mode=images)
    else:  # a new home, a migration to run, PostgreSQL: opened (and reported) here, as before
        app = AtlasApp(open_catalogue(ctx, busy_timeout=BUSY_TIMEOUT_S), image_mode=images)
    probe.join()
    app.run()


class TerminalProbe:
    """Imports textual-image in a thread. Its first import asks the terminal what graphics it
    supports (waiting up to 0.1 s per question a terminal leaves unanswered): that must happen
    before Textual owns the terminal, or the query and the app fight over stdin; in a thread, the
    wait overlaps the loading of the app's own modules instead of adding to it. Textual's core is
    imported before it starts, so the two threads never wait on each other's module locks."""

    def __init__(self):
        import threading

        self.failed: BaseException | None = None
        self.thread = threading.Thread(target=self.run, name="atlas-terminal-probe", daemon=True)
        self.thread.start()

    def run(self) -> None:
        try:
            import textual_image.widget  # noqa: F401
        except BaseException as exc:  # re-raised on the main thread by join()
            self.failed = exc

    def join(self) -> None:
        self.thread.join()
        if self.failed is not None:
            raise self.failed
