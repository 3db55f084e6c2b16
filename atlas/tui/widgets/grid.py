"""The grid view: the list's loaded rows as thumbnail tiles, a page of them at a time.

The grid has no rows of its own: it shows `ResultsTable.loaded` and moves the table's cursor,
so the status line, the preview pane, paging in more rows and every action on "the selected
render" work as in the list. Each tile's thumbnail comes from the cache in its preview's worker.
"""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widget import Widget
from textual.widgets import Static

from atlas.core.terminal import safe
from atlas.tui.widgets.preview import Preview

TILE_WIDTH = 20  # cells, border included
TILE_HEIGHT = 11
EDGE = 128  # thumbnail pixels: a tile shows 18x9 half-block cells


class Tile(Vertical):
    def __init__(self, mode: str, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.render_id: int | None = None

    def compose(self) -> ComposeResult:
        yield Preview(self.mode, edge=EDGE, classes="tile-preview")
        yield Static("", classes="tile-label")

    def show(self, render_id: int | None, path, label: str) -> None:
        self.display = render_id is not None
        if render_id == self.render_id:
            self.query_one(".tile-label", Static).update(label)
            return
        self.render_id = render_id
        self.query_one(".tile-label", Static).update(label)
        if render_id is not None:
            self.query_one(Preview).show(path)


class GridView(Widget, can_focus=True):
    BINDINGS = [Binding("left", "move(-1)", show=False), Binding("right", "move(1)", show=False),
                Binding("up", "move_rows(-1)", show=False), Binding("down", "move_rows(1)", show=False),
                Binding("pageup", "move_pages(-1)", show=False), Binding("pagedown", "move_pages(1)", show=False),
                Binding("enter", "open", "open", show=False), Binding("space", "toggle_mark", "select", show=False)]

    def __init__(self, table, mode: str, **kwargs):
        super().__init__(**kwargs)
        self.table = table
        self.mode = mode
        self.columns = 1
        self.per_page = 1
        self.tiles: list[Tile] = []  # the current page's tiles (old ones may still be unmounting)

    def compose(self) -> ComposeResult:
        yield Grid(id="grid-tiles")

    def on_resize(self) -> None:
        self.layout_tiles()

    def layout_tiles(self) -> None:
        columns = max(1, self.size.width // TILE_WIDTH)
        rows = max(1, self.size.height // TILE_HEIGHT)
        if (columns, columns * rows) != (self.columns, self.per_page) or not self.tiles:
            self.columns, self.per_page = columns, columns * rows
            grid = self.query_one("#grid-tiles", Grid)
            grid.styles.grid_size_columns = columns
            grid.remove_children()
            self.tiles = [Tile(self.mode, classes="tile") for _ in range(self.per_page)]
            mounting = grid.mount_all(self.tiles)

            async def mounted() -> None:
                await mounting
                self.sync()

            self.call_later(mounted)
        else:
            self.sync()

    def sync(self) -> None:
        """Show the page of tiles that holds the table's cursor; the cursor's tile highlighted."""
        if not self.display:
            return
        table = self.table
        rows = table.loaded
        cursor = table.cursor_row if rows else 0
        start = (cursor // self.per_page) * self.per_page
        for offset, tile in enumerate(self.tiles):
            if not tile.is_mounted:
                continue
            index = start + offset
            row = rows[index] if index < len(rows) else None
            if row is None:
                tile.show(None, None, "")
                continue
            mark = "●" if row.id in table.marked else ""
            stars = "★" * (row.rating or 0)
            tile.show(row.id, table.catalogue.file_of(row), safe(f"{mark}{row.id} {stars}")[:TILE_WIDTH - 2])
            tile.set_class(index == cursor, "-cursor")

    def move_to(self, index: int) -> None:
        table = self.table
        if not table.row_count:
            return
        table.move_cursor(row=max(0, min(table.row_count - 1, index)))
        self.call_after_refresh(self.sync)

    def action_move(self, delta: int) -> None:
        self.move_to(self.table.cursor_row + delta)

    def action_move_rows(self, delta: int) -> None:
        self.move_to(self.table.cursor_row + delta * self.columns)

    def action_move_pages(self, delta: int) -> None:
        self.move_to(self.table.cursor_row + delta * self.per_page)

    def action_open(self) -> None:
        if self.table.current_id is not None:
            self.app.open_detail(self.table.current_id)

    def action_toggle_mark(self) -> None:
        self.table.action_toggle_mark()
        self.call_after_refresh(self.sync)
