"""The results table: a window of pages over the query's renders, loaded off the UI thread.

The table holds the rows from `offset` on, a page at a time as the cursor nears either end; End
jumps to the last page of the whole result. Queries and counts run in worker threads; a result
that comes back for a query, sort or window the user has already replaced is dropped.
"""

from dataclasses import dataclass, replace

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey

from atlas.core.actions import browsing as listing
from atlas.core.search.row import Row
from atlas.core.terminal import safe


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    drop: int  # narrow terminals drop the highest first; 0: an essential, always shown


# `prompt` takes what the others leave (at least PROMPT_MIN); its width here is the most it takes.
COLUMNS = [Column("id", "id", 7, 0), Column("created", "created", 16, 4), Column("size", "size", 9, 6),
           Column("model", "model", 18, 0), Column("sampler", "sampler", 15, 1), Column("steps", "steps", 5, 2),
           Column("cfg", "CFG", 4, 3), Column("seed", "seed", 19, 0), Column("licence", "licence", 12, 5),
           Column("rating", "rating", 6, 1), Column("prompt", "prompt", 80, 0)]
# Columns the user may hide (K); id and prompt always show. Hidden until chosen: rating (once chosen,
# it stays as long as the sampler does: drop 1).
CHOOSABLE = [column.key for column in COLUMNS if column.key not in ("id", "prompt")]
HIDDEN_AT_FIRST = frozenset({"rating"})
PROMPT_MIN = 24  # the least the prompt gets, when only the essentials are left
PROMPT_WANT = 48  # other columns are dropped until the prompt has this much
CELL_PADDING = 2  # DataTable pads each cell by one column on either side
SCROLLBAR = 2
PREFETCH = 20  # load the next page when the cursor is this close to either end of the window
SORT_KEYS = [column.key for column in COLUMNS]
WIDTH_RANGE = (3, 60)  # the narrowest and widest a column may be made (K, < and >)
MARK = "●"


def fit(text: str, width: int) -> str:
    """`text` in `width` terminal cells (a CJK character takes two): whole, or cut with an ellipsis so
    a cut value never passes for a whole one."""
    if cell_len(text) <= width:
        return text
    kept, used = [], 0
    for char in text:
        used += cell_len(char)
        if used > width - 1:  # one cell left for the ellipsis
            break
        kept.append(char)
    return "".join(kept) + "…"


def layout(width: int, hidden: frozenset[str] = HIDDEN_AT_FIRST, widths: dict[str, int] | None = None) -> list[Column]:
    """The columns for a table `width` cells wide: the essentials always, others while the prompt keeps
    PROMPT_WANT cells; the prompt then takes the rest (at least PROMPT_MIN). `hidden` and `widths`
    (column key: cells): the user's choice."""
    widths = widths or {}
    shown = [replace(c, width=widths.get(c.key, c.width)) for c in COLUMNS
             if c.key not in hidden or c.key not in CHOOSABLE]

    def needed(columns):
        return sum(c.width + CELL_PADDING for c in columns if c.key != "prompt") + PROMPT_WANT + CELL_PADDING

    for drop in sorted({c.drop for c in COLUMNS if c.drop}, reverse=True):
        if needed(shown) + SCROLLBAR <= width:
            break
        shown = [c for c in shown if c.drop != drop]
    rest = width - SCROLLBAR - sum(c.width + CELL_PADDING for c in shown if c.key != "prompt") - CELL_PADDING
    prompt = COLUMNS[-1]
    return [c if c.key != "prompt" else Column("prompt", "prompt", max(PROMPT_MIN, min(prompt.width, rest)), 0)
            for c in shown]


def cell_values(row: Row) -> dict[str, str]:
    return {"id": str(row.id), "created": row.created.strftime("%Y-%m-%d %H:%M"), "size": f"{row.width}x{row.height}",
            "model": row.model or "-", "sampler": row.sampler or "-",
            "steps": "" if row.steps is None else str(row.steps), "cfg": "" if row.cfg is None else f"{row.cfg:g}",
            "seed": "" if row.seed is None else str(row.seed), "licence": row.licence or "-",
            "rating": "★" * (row.rating or 0),
            "prompt": row.prompt.replace("\n", " ")}


def cells(row: Row, columns: list[Column], marked: bool = False) -> tuple[Text, ...]:
    values = cell_values(row)
    if marked:
        values["id"] = MARK + values["id"]
    # Textual passes ESC, NUL and C1 to the terminal: made safe before cutting to width. Text, not
    # str: DataTable reads a str as Rich markup, which eats a prompt's `[b]` or A1111's `[from:to:when]`
    # and raises on `[/]`.
    return tuple(Text(fit(safe(values[c.key]), c.width)) for c in columns)


class ResultsTable(DataTable):
    """The current query's renders; `load` starts over for a new query or sort."""

    BINDINGS = [Binding("s", "cycle_sort", "sort", show=False),
                Binding("S", "flip_sort", "flip sort", show=False),
                Binding("end,ctrl+end", "last", "last row", show=False),
                Binding("home,ctrl+home", "first", "first row", show=False),
                Binding("space", "toggle_mark", "select", show=False),
                Binding("V", "visual", "select a range", show=False),
                Binding("K", "choose_columns", "choose columns", show=False)]

    class Loaded(Message):
        """A query's rows are on screen; `total` is None until the count is in."""

        def __init__(self, total: int | None) -> None:
            super().__init__()
            self.total = total

    class Moved(Message):
        """The cursor or the marks changed (the status line says where and how many)."""

    def __init__(self, catalogue, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=1, **kwargs)
        self.catalogue = catalogue
        self.text = ""
        self.sort: str | None = None
        self.descending = True
        self.total: int | None = 0
        self.first_row = 0  # position of the first loaded row in the whole result
        self.loaded: list[Row] = []
        self.exhausted = False
        self.generation = 0  # bumped by every new query, sort or window: older results are dropped
        self.busy = False  # a page is being fetched for the current generation
        self.hidden: frozenset[str] = HIDDEN_AT_FIRST  # columns the user chose not to see
        self.widths: dict[str, int] = {}  # columns the user made wider or narrower
        self.columns_shown: list[Column] = layout(150, self.hidden)
        self.marked: set[int] = set()
        self.anchor: int | None = None  # the row a visual range started at

    # ---- columns -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.add_header()

    def add_header(self) -> None:
        for column in self.columns_shown:
            self.add_column(self.header_label(column), key=column.key, width=column.width)

    def on_resize(self) -> None:
        self.relayout()

    def relayout(self) -> None:
        wanted = layout(self.size.width, self.hidden, self.widths)
        if wanted != self.columns_shown:
            self.columns_shown = wanted
            self.clear(columns=True)
            self.add_header()
            self.show_rows(self.loaded, keep=self.current_id)

    def action_choose_columns(self) -> None:
        from atlas.tui.screens.columns import ColumnsDialog

        self.app.push_screen(ColumnsDialog(self))

    def show_columns(self, hidden: frozenset[str]) -> None:
        """Hide the columns in `hidden` (the others show as the width allows)."""
        self.hidden = frozenset(hidden)
        self.relayout()

    def width_of(self, key: str) -> int:
        return self.widths.get(key, next(c.width for c in COLUMNS if c.key == key))

    def resize_column(self, key: str, delta: int) -> int:
        """Make column `key` `delta` cells wider (narrower when negative), within WIDTH_RANGE; its new width."""
        low, high = WIDTH_RANGE
        self.widths[key] = max(low, min(high, self.width_of(key) + delta))
        self.relayout()
        return self.widths[key]

    def update_header(self) -> None:
        """Relabel the headers in place (the sort arrow) instead of rebuilding the columns."""
        for column in self.columns_shown:
            self.columns[ColumnKey(column.key)].label = Text(self.header_label(column))
        self.refresh()

    def header_label(self, column: Column) -> str:
        if column.key == self.sort:
            return f"{column.label} {'▼' if self.descending else '▲'}"
        return column.label

    # ---- loading (workers) ---------------------------------------------------------------------

    def load(self, text: str | None = None, keep: int | None = None, first_page: list[Row] | None = None) -> None:
        """Run query `text` (or the current one again) from its first row, off the UI thread;
        `keep`: a render to put the cursor on again if it is in the new rows. `first_page`: that
        page already read (the app's first screen), shown now; only the count runs in a worker."""
        if text is not None:
            self.text = text
        self.generation += 1
        if first_page is not None:
            self.fetched(self.generation, 0, first_page, None, keep, count=True, at_end=False)
            return
        self.fetch(self.generation, self.text, self.sort, self.descending, 0, keep, count=True)

    def fetch(self, generation: int, text: str, sort, descending: bool, offset: int, keep: int | None,
              count: bool, at_end: bool = False) -> None:
        self.busy = True

        def work() -> None:
            try:
                total = None
                if at_end:
                    total = listing.count(self.catalogue, text)
                    offset_ = max(0, total - listing.PAGE_SIZE)
                else:
                    offset_ = offset
                rows = listing.page(self.catalogue, text, offset_, listing.PAGE_SIZE, sort, descending)
            except Exception as exc:
                self.app.call_from_thread(self.failed, generation, exc)
                return
            self.app.call_from_thread(self.fetched, generation, offset_, rows, total, keep, count, at_end)

        self.run_worker(work, thread=True, exclusive=True, group="rows")

    def failed(self, generation: int, exc: Exception) -> None:
        if generation != self.generation:
            return
        self.busy = False
        from atlas.tui.errors import explain

        self.app.notify(explain(exc), title="search failed", severity="error")

    def fetched(self, generation: int, offset: int, rows: list[Row], total: int | None, keep: int | None,
                count: bool, at_end: bool) -> None:
        if generation != self.generation:  # the user has asked for something else meanwhile
            return
        self.busy = False
        self.first_row = offset
        self.exhausted = len(rows) < listing.PAGE_SIZE
        self.update_header()
        self.show_rows(rows, keep=keep, last=at_end)
        if total is not None:
            self.total = total
        elif self.exhausted and offset == 0:  # the whole result is here: no need to ask the database
            self.total = len(rows)
        elif count:  # counting a large result can take longer than the page: the rows show first
            self.total = None
            text = self.text
            self.run_worker(lambda: self.count_in_thread(generation, text), thread=True, exclusive=True,
                            group="count")
        self.post_message(self.Loaded(self.total))

    def count_in_thread(self, generation: int, text: str) -> None:
        try:
            total = listing.count(self.catalogue, text)
        except Exception as exc:
            from atlas.tui.errors import explain

            self.app.call_from_thread(self.app.notify, explain(exc), title="count failed", severity="error")
            return
        self.app.call_from_thread(self.counted, generation, text, total)

    def counted(self, generation: int, text: str, total: int) -> None:
        if text == self.text and generation == self.generation:  # not a count for a replaced query
            self.total = total
            self.post_message(self.Loaded(total))

    def show_rows(self, rows: list[Row], keep: int | None = None, last: bool = False) -> None:
        self.loaded = list(rows)
        self.clear()
        for row in rows:  # keyed by render id, so a selection maps back to its render
            self.add_row(*cells(row, self.columns_shown, row.id in self.marked), key=str(row.id))
        if keep is not None and any(row.id == keep for row in rows):
            self.move_cursor(row=self.get_row_index(str(keep)), scroll=True)
        elif last and rows:
            self.move_cursor(row=len(rows) - 1, scroll=True)

    def more(self, before: bool) -> None:
        """The next page after the window (or the one before it), added in a worker."""
        if self.busy or (not before and self.exhausted) or (before and self.first_row == 0):
            return
        generation, text, sort, descending = self.generation, self.text, self.sort, self.descending
        offset = max(0, self.first_row - listing.PAGE_SIZE) if before else self.first_row + len(self.loaded)
        limit = self.first_row - offset if before else listing.PAGE_SIZE
        self.busy = True

        def work() -> None:
            try:
                rows = listing.page(self.catalogue, text, offset, limit, sort, descending)
            except Exception as exc:
                self.app.call_from_thread(self.failed, generation, exc)
                return
            self.app.call_from_thread(self.added, generation, before, offset, rows, limit)

        self.run_worker(work, thread=True, group="more")

    def added(self, generation: int, before: bool, offset: int, rows: list[Row], limit: int) -> None:
        if generation != self.generation:
            return
        self.busy = False
        if before:
            cursor = self.cursor_row + len(rows)
            self.first_row = offset
            self.show_rows(rows + self.loaded)
            self.move_cursor(row=cursor)
        else:
            self.exhausted = len(rows) < limit
            self.loaded += rows
            for row in rows:
                self.add_row(*cells(row, self.columns_shown, row.id in self.marked), key=str(row.id))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.row_count - PREFETCH:
            self.more(before=False)
        elif event.cursor_row <= PREFETCH and self.first_row > 0:
            self.more(before=True)
        if self.anchor is not None:
            self.post_message(self.Moved())

    # ---- sorting -------------------------------------------------------------------------------

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def sort_by(self, key: str | None) -> None:
        """Sort by column `key` (None: the query's own order); choosing it again flips the direction."""
        if key is not None and self.sort == key:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, key in ("created", "id")
        self.load()

    def action_cycle_sort(self) -> None:
        """The next column; after the last, the query's own order again."""
        keys = [key for key in SORT_KEYS if key not in self.hidden]  # a hidden column is not sorted by
        if self.sort is None or self.sort not in keys:
            self.sort_by(keys[1])
        else:
            index = keys.index(self.sort) + 1
            self.sort_by(keys[index] if index < len(keys) else None)

    def action_flip_sort(self) -> None:
        if self.sort is None:
            self.app.notify("no column sort to flip: press s to choose one (a typed sort: -field sorts down)",
                            severity="warning")
            return
        self.descending = not self.descending
        self.load()

    def clear_sort(self) -> None:
        """Forget the column sort (a query that says `sort:` is then obeyed); takes effect on the next load."""
        self.sort, self.descending = None, True

    # ---- moving --------------------------------------------------------------------------------

    def action_last(self) -> None:
        """The last row of the whole result, loading its page when the window does not reach it."""
        if self.exhausted:
            self.move_cursor(row=self.row_count - 1, scroll=True)
            return
        self.generation += 1
        self.fetch(self.generation, self.text, self.sort, self.descending, 0, None, count=False, at_end=True)

    def action_first(self) -> None:
        if self.first_row == 0:
            self.move_cursor(row=0, scroll=True)
            return
        self.generation += 1
        self.fetch(self.generation, self.text, self.sort, self.descending, 0, None, count=False)


    @property
    def row_position(self) -> int | None:
        """The cursor's row in the whole result, from 1."""
        return self.first_row + self.cursor_row + 1 if self.row_count else None

    @property
    def current_id(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return int(key.value)

    @property
    def current_row(self) -> Row | None:
        """The loaded row under the cursor."""
        render_id = self.current_id
        return None if render_id is None else next((row for row in self.loaded if row.id == render_id), None)

    # ---- marks (multi-select) ------------------------------------------------------------------

    def set_mark(self, render_id: int, on: bool) -> None:
        (self.marked.add if on else self.marked.discard)(render_id)
        row = next((r for r in self.loaded if r.id == render_id), None)
        if row is not None:
            self.update_cell(str(render_id), "id", cells(row, self.columns_shown, on)[0])

    def action_toggle_mark(self) -> None:
        render_id = self.current_id
        if render_id is None:
            return
        self.set_mark(render_id, render_id not in self.marked)
        self.anchor = None
        self.post_message(self.Moved())
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def action_visual(self) -> None:
        """First V: a range starts here; second V: every row between it and the cursor is selected."""
        if self.current_id is None:
            return
        if self.anchor is None:
            self.anchor = self.first_row + self.cursor_row
        else:
            low, high = sorted((self.anchor - self.first_row, self.cursor_row))
            for row in self.loaded[max(low, 0):high + 1]:
                self.set_mark(row.id, True)
            self.anchor = None
        self.post_message(self.Moved())

    def clear_marks(self) -> None:
        for render_id in list(self.marked):
            self.set_mark(render_id, False)
        self.anchor = None
        self.post_message(self.Moved())
