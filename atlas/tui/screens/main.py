"""The main screen: search bar, results table, counts; enter opens the selected render."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from atlas.core.search.parse import NEWEST_FIRST, parse
from atlas.tui.widgets.job_bar import JobBar
from atlas.tui.widgets.results import ResultsTable
from atlas.tui.widgets.search_bar import SearchBar


def typed_sort(text: str) -> str:
    """The order a query asks for with `sort:` ('' for the default, newest first)."""
    try:
        order = parse(text).sort
    except Exception:
        return ""
    if order == NEWEST_FIRST:
        return ""
    return ", ".join(f"{s.field} {'▼' if s.descending else '▲'}" for s in order)


class MainScreen(Screen):
    BINDINGS = [Binding("slash", "focus_search", "search"),
                Binding("escape", "focus_table", "results", show=False),
                Binding("p", "toggle_preview", "preview pane", show=False),
                Binding("F", "toggle_facets", "facets", show=False),
                Binding("g", "toggle_grid", "grid / list", show=False),
                Binding("f5,ctrl+r", "refresh_rows", "refresh", show=False)]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.preview_chosen: bool | None = None  # the user's p; None: by the terminal's width

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        from atlas.tui.widgets.facets import FacetsPanel
        from atlas.tui.widgets.grid import GridView
        from atlas.tui.widgets.preview_pane import PreviewPane

        yield Static("atlas", id="title")
        yield SearchBar(id="search")
        with Horizontal(id="main-body"):
            yield FacetsPanel(self.app.catalogue, id="facets")
            table = ResultsTable(self.app.catalogue, id="results")
            yield table
            yield GridView(table, self.app.image_mode, id="grid")
            yield PreviewPane(self.app.image_mode, id="preview-pane")
        yield Static("", id="status", markup=False)
        yield JobBar(classes="job")
        yield Footer()

    @property
    def table(self) -> ResultsTable:
        return self.query_one(ResultsTable)

    def on_mount(self) -> None:
        self.query_one("#facets").display = False
        self.grid.display = False
        self.place_preview()
        first_page = getattr(self.app, "first_page", None)  # read before the app ran (QuickStartApp), once
        if first_page is not None:
            self.app.first_page = None
        self.facets.forget()
        self.table.load("", first_page=first_page)
        self.table.focus()
        interval = getattr(self.app, "watch_interval", None)
        if interval:
            self.set_interval(interval, self.watch_catalogue)

    def run_query(self, text: str, keep: int | None = None) -> None:
        """Run `text` in a worker; a locked or broken database is a notification, the old rows stay.
        The query runs again after every write (`AtlasApp.refresh_results`): the facets count again."""
        self.facets.forget()
        self.table.load(text, keep=keep)

    def action_refresh_rows(self) -> None:
        """Run the query again (renders, tags or ratings written elsewhere), facets with it."""
        self.run_query(self.table.text, keep=self.table.current_id)

    @on(SearchBar.Submitted)
    def query_submitted(self, event: SearchBar.Submitted) -> None:
        # The focus stays in the search bar: typing on must not fire the table's one-key actions.
        if typed_sort(event.text):
            self.table.clear_sort()  # what the user typed last wins over an earlier header click
        self.run_query(event.text)

    @on(ResultsTable.Loaded)
    def show_count(self, event: ResultsTable.Loaded) -> None:
        self.update_status()
        self.app.selected_id = self.table.current_id
        self.follow_cursor()
        self.grid.sync()
        if self.facets.display:
            self.facets.count_for(self.table.text)

    @on(ResultsTable.Moved)
    def marks_changed(self) -> None:
        self.update_status()

    def update_status(self) -> None:
        table = self.table
        if table.total is None:
            shown = "counting renders"
        else:
            shown = f"{table.total:,} render{'s' if table.total != 1 else ''}"
        query = table.text.strip()
        # A column sort wins over a typed `sort:`; the status names the order in effect.
        order = f"{table.sort} {'▼' if table.descending else '▲'}" if table.sort else typed_sort(table.text)
        parts = [f"{shown}{' matching ' + query if query else ''}"]
        if order:
            parts.append(f"sorted by {order}")
        if table.row_position is not None:
            parts.append(f"row {table.row_position:,} of {table.total:,}" if table.total is not None
                         else f"row {table.row_position:,}")
        row = table.current_row
        if row is not None and (row.rating or row.hidden):
            parts.append(" ".join(filter(None, ["★" * (row.rating or 0), "hidden" if row.hidden else ""])))
        if table.marked:
            parts.append(f"{len(table.marked)} selected (space toggles, V a range, escape clears)")
        elif table.anchor is not None:
            parts.append("range started: move, then V again")
        self.query_one("#status", Static).update(" · ".join(parts))

    @on(DataTable.RowHighlighted, "#results")
    def row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.app.selected_id = int(event.row_key.value)
        self.update_status()
        self.follow_cursor()
        self.grid.sync()

    @on(DataTable.RowSelected, "#results")
    def row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_detail(int(event.row_key.value))

    def action_focus_search(self) -> None:
        self.query_one("#query").focus()

    def action_focus_table(self) -> None:
        results = self.grid if self.grid.display else self.table
        if results.has_focus and (self.table.marked or self.table.anchor is not None):
            self.table.clear_marks()
            self.grid.sync()
        results.focus()

    def select_render(self, render_id: int) -> None:
        """Put the cursor on `render_id` if it is among the loaded rows."""
        try:
            index = self.table.get_row_index(str(render_id))
        except Exception:
            return
        self.table.move_cursor(row=index)

    def watch_catalogue(self) -> None:
        """New renders (from the CLI, another TUI) show by themselves while the list sits at its top."""
        table = self.table
        if table.busy or table.first_row or table.cursor_row > 0 or table.total is None or table.marked:
            return
        known, text = table.total, table.text

        def work() -> None:
            from atlas.core.actions import browsing as listing

            try:
                total = listing.count(self.app.catalogue, text)
            except Exception:
                return  # a locked catalogue: the next tick tries again
            if total != known:
                self.app.call_from_thread(self.catalogue_changed, text)

        self.run_worker(work, thread=True, exclusive=True, group="watch")

    def catalogue_changed(self, text: str) -> None:
        if text == self.table.text and self.table.cursor_row == 0:
            self.run_query(text)

    # ---- preview pane and facets -----------------------------------------------------------------

    @property
    def pane(self):
        return self.query_one("#preview-pane")

    @property
    def facets(self):
        return self.query_one("#facets")

    def on_resize(self) -> None:
        self.place_preview()

    def place_preview(self) -> None:
        """The pane shows when the user asked for it, else when the terminal is wide enough that the
        list keeps its essential columns and a readable prompt beside it."""
        shown = self.preview_chosen if self.preview_chosen is not None else self.size.width >= PREVIEW_MIN_WIDTH
        if shown != self.pane.display:
            self.pane.display = shown
            self.follow_cursor()

    def action_toggle_preview(self) -> None:
        self.preview_chosen = not self.pane.display
        self.place_preview()

    def follow_cursor(self) -> None:
        """Preview the render under the cursor (the decode happens in the pane's worker)."""
        if not self.pane.display:
            return
        row = self.table.current_row
        if row is None:
            self.pane.follow(None, None)
            return
        path = self.app.catalogue.file_of(row)
        self.pane.follow(row.id, path, f"render {row.id} · {row.width}x{row.height}")

    @property
    def grid(self):
        return self.query_one("#grid")

    def action_toggle_grid(self) -> None:
        """Thumbnails in a grid instead of the list (the same rows, the same cursor), and back."""
        grid = not self.grid.display
        self.grid.display, self.table.display = grid, not grid
        if grid:
            self.grid.layout_tiles()
            self.grid.focus()
        else:
            self.table.focus()
            self.table.move_cursor(row=self.table.cursor_row, scroll=True)

    def action_toggle_facets(self) -> None:
        facets = self.facets
        facets.display = not facets.display
        if facets.display:
            facets.count_for(self.table.text)
            facets.options.focus()
        else:
            (self.grid if self.grid.display else self.table).focus()

    def on_facets_panel_chosen(self, event) -> None:
        """A facet value narrows the query; the search bar shows the new query."""
        from atlas.core.search import facets

        text = facets.narrow(self.table.text, event.facet, event.value, event.exclude)
        bar = self.query_one(SearchBar)
        bar.input.value = text
        bar.input.remember(text)
        self.run_query(text)


PREVIEW_MIN_WIDTH = 160  # cells: below this the pane shows only when asked for (p)
