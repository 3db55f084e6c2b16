"""The main screen: search bar, results table, counts; enter opens the selected render."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from atlas.tui.errors import explain
from atlas.tui.widgets.job_bar import JobBar
from atlas.tui.widgets.results import ResultsTable
from atlas.tui.widgets.search_bar import SearchBar


class MainScreen(Screen):
    BINDINGS = [Binding("slash", "focus_search", "search"),
                Binding("escape", "focus_table", "results", show=False)]

    def compose(self) -> ComposeResult:
        yield Static("atlas", id="title")
        yield SearchBar(id="search")
        yield ResultsTable(self.app.catalogue, id="results")
        yield Static("", id="status")
        yield JobBar(classes="job")
        yield Footer()

    @property
    def table(self) -> ResultsTable:
        return self.query_one(ResultsTable)

    def on_mount(self) -> None:
        self.run_query("")
        self.table.focus()

    def run_query(self, text: str) -> None:
        try:
            self.table.load(text)
        except Exception as exc:  # a locked or broken database: say so, keep the old rows
            self.app.notify(explain(exc), title="search failed", severity="error")

    @on(SearchBar.Submitted)
    def query_submitted(self, event: SearchBar.Submitted) -> None:
        self.run_query(event.text)
        if self.table.row_count:
            self.table.focus()

    @on(ResultsTable.Loaded)
    def show_count(self, event: ResultsTable.Loaded) -> None:
        if event.total is None:
            shown = "counting renders"
        else:
            shown = f"{event.total:,} render{'s' if event.total != 1 else ''}"
        query = self.table.text.strip()
        sort = f" · sorted by {self.table.sort} {'▼' if self.table.descending else '▲'}" if self.table.sort else ""
        self.query_one("#status", Static).update(f"{shown}{' matching ' + query if query else ''}{sort}")
        self.app.selected_id = self.table.current_id

    @on(DataTable.RowHighlighted, "#results")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.app.selected_id = int(event.row_key.value)

    @on(DataTable.RowSelected, "#results")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_detail(int(event.row_key.value))

    def action_focus_search(self) -> None:
        self.query_one("#query").focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def select_render(self, render_id: int) -> None:
        """Put the cursor on `render_id` if it is among the loaded rows."""
        try:
            index = self.table.get_row_index(str(render_id))
        except Exception:
            return
        self.table.move_cursor(row=index)
