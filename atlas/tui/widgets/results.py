"""The results table: pages of renders loaded as the cursor nears the end, sortable by column."""

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from atlas.core.actions import listing
from atlas.core.actions.listing import Row
from atlas.core.terminal import safe

COLUMNS = [("id", "id", 7), ("created", "created", 16), ("size", "size", 9), ("model", "model", 18),
           ("sampler", "sampler", 15), ("steps", "steps", 5), ("cfg", "CFG", 4), ("seed", "seed", 10),
           ("licence", "licence", 12), ("prompt", "prompt", 60)]
PROMPT_EXCERPT = 60  # every width fixed: no column is measured against its rows on each load
PREFETCH = 20  # load the next page when the cursor is this close to the last loaded row


def cells(row: Row) -> tuple:
    cfg = "" if row.cfg is None else (f"{row.cfg:g}")
    prompt = row.prompt.replace("\n", " ")
    if len(prompt) > PROMPT_EXCERPT:
        prompt = prompt[:PROMPT_EXCERPT - 1] + "…"
    found = (str(row.id), row.created.strftime("%Y-%m-%d %H:%M"), f"{row.width}x{row.height}",
             row.model or "-", row.sampler or "-", "" if row.steps is None else str(row.steps), cfg,
             "" if row.seed is None else str(row.seed), row.licence or "-", prompt)
    return tuple(safe(cell) for cell in found)  # Textual passes ESC, NUL and C1 to the terminal


class ResultsTable(DataTable):
    """Holds only the pages seen so far; `load` starts over for a new query or sort."""

    BINDINGS = [Binding("s", "cycle_sort", "sort", show=False)]

    class Loaded(Message):
        """A query's first page is on screen; `total` is None until the count is in."""

        def __init__(self, total: int | None) -> None:
            super().__init__()
            self.total = total

    def __init__(self, catalogue, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.catalogue = catalogue
        self.text = ""
        self.sort: str | None = None
        self.descending = True
        self.total = 0
        self.exhausted = False

    def on_mount(self) -> None:
        self.add_header()

    def add_header(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(self.header_label(key, label), key=key, width=width)

    def update_header(self) -> None:
        """Relabel the headers in place (the sort arrow) instead of rebuilding the columns."""
        for key, label, _width in COLUMNS:
            self.columns[ColumnKey(key)].label = Text(self.header_label(key, label))
        self.refresh()

    def header_label(self, key: str, label: str) -> str:
        if key == self.sort:
            return f"{label} {'▼' if self.descending else '▲'}"
        return label

    def load(self, text: str | None = None) -> None:
        """Run query `text` (or the current one again) and show its first page."""
        if text is not None:
            self.text = text
        rows = listing.page(self.catalogue, self.text, 0, listing.PAGE_SIZE, self.sort, self.descending)
        self.clear()
        self.update_header()
        self.exhausted = len(rows) < listing.PAGE_SIZE
        self.append(rows)
        if self.exhausted:  # the whole result is here: no need to ask the database
            self.total = len(rows)
        else:  # counting a large result can take longer than the page: the rows show first
            self.total = None
            self.run_worker(lambda: self.count_in_thread(self.text), thread=True, exclusive=True, group="count")
        self.post_message(self.Loaded(self.total))

    def count_in_thread(self, text: str) -> None:
        try:
            total = listing.count(self.catalogue, text)
        except Exception as exc:
            from atlas.tui.errors import explain

            self.app.call_from_thread(self.app.notify, explain(exc), title="count failed", severity="error")
            return
        self.app.call_from_thread(self.counted, text, total)

    def counted(self, text: str, total: int) -> None:
        if text == self.text:  # not a count for a query the user has already replaced
            self.total = total
            self.post_message(self.Loaded(total))

    def append(self, rows: list[Row]) -> None:
        for row in rows:  # keyed by render id, so a selection maps back to its render
            self.add_row(*cells(row), key=str(row.id))

    def load_more(self) -> None:
        if self.exhausted:
            return
        try:
            rows = listing.page(self.catalogue, self.text, self.row_count, listing.PAGE_SIZE, self.sort,
                                self.descending)
        except Exception as exc:
            from atlas.tui.errors import explain

            self.app.notify(explain(exc), title="loading more rows failed", severity="error")
            return
        self.exhausted = len(rows) < listing.PAGE_SIZE
        self.append(rows)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.row_count - PREFETCH:
            self.load_more()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def sort_by(self, key: str) -> None:
        """Sort by column `key`; choosing it again flips the direction."""
        if self.sort == key:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, key in ("created", "id")
        try:
            self.load()
        except Exception as exc:
            from atlas.tui.errors import explain

            self.app.notify(explain(exc), title="sort failed", severity="error")

    def action_cycle_sort(self) -> None:
        keys = [key for key, _label, _width in COLUMNS]
        column = keys[self.cursor_column] if self.cursor_type == "cell" else None
        self.sort_by(column or keys[(keys.index(self.sort) + 1) % len(keys) if self.sort else 1])

    @property
    def current_id(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return int(key.value)
