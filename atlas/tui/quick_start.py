"""`atlas tui` on a catalogue read by sqlite3 first (`actions/browsing.py`): the app opens the
SQLAlchemy catalogue in a thread once the first rows and their count are drawn, not before."""

from atlas.tui.app import AtlasApp
from atlas.tui.widgets.results import ResultsTable


class QuickStartApp(AtlasApp):
    def on_results_table_loaded(self, event: ResultsTable.Loaded) -> None:
        # After the repaint that shows them: its imports would otherwise hold the GIL before it.
        if event.total is not None:
            self.call_after_refresh(self.catalogue.warm)
