"""`atlas tui` on a catalogue read by sqlite3 first (`actions/browsing.py`): the app opens the
SQLAlchemy catalogue in a thread once the first rows and their count are drawn, not before."""

from atlas.tui.app import AtlasApp
from atlas.tui.widgets.results import ResultsTable


class QuickStartApp(AtlasApp):
    def __init__(self, catalogue, **kwargs):
        super().__init__(catalogue, **kwargs)
        # The first page (a few ms in sqlite3) read before the app runs: the first screen is drawn
        # with its rows, instead of empty and then again when a worker has read them.
        from atlas.core.actions import browsing

        try:
            self.first_page: list | None = browsing.page(catalogue, "")
        except Exception:  # a locked or broken file: the table's worker reads it and says what is wrong
            self.first_page = None

    def on_results_table_loaded(self, event: ResultsTable.Loaded) -> None:
        # After the repaint that shows them: its imports would otherwise hold the GIL before it.
        if event.total is not None:
            self.call_after_refresh(self.catalogue.warm)
