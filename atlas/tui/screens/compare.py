"""Two renders side by side: their facts and parameters in rows (`atlas.core.actions.compare`),
the rows that differ marked with ≠ and highlighted; d shows only those. The app's batch keys
(e, t, v, r, 1-5, h) work on the two renders shown, never on the list's selection; its keys on one
render are off here (`AtlasApp.targets`, `AtlasApp.check_action`)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from atlas.core.terminal import safe

VALUE_WIDTH = 60  # cells per value column before the cut (with an ellipsis)
FIELD_WIDTH = 28


def cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def shown(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return cut(safe(str(value)).replace("\n", " "), VALUE_WIDTH)


class CompareScreen(Screen):
    BINDINGS = [Binding("escape,q", "back", "back"),
                Binding("d", "only_differences", "only the differences / all rows")]

    def __init__(self, left: int, right: int, **kwargs):
        super().__init__(**kwargs)
        self.left, self.right = left, right
        self.rows: list = []
        self.only_differences = False

    def compose(self) -> ComposeResult:
        yield Static(f"compare render {self.left} with render {self.right}", id="title")
        yield DataTable(id="compare", cursor_type="row", zebra_stripes=True)
        yield Static("reading the two records…", id="compare-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("", key="mark", width=1)
        table.add_column("field", key="field", width=FIELD_WIDTH)
        table.add_column(f"render {self.left}", key="left", width=VALUE_WIDTH)
        table.add_column(f"render {self.right}", key="right", width=VALUE_WIDTH)
        table.focus()
        self.run_worker(self.read, thread=True, exclusive=True, group="compare")

    def read(self) -> None:
        from atlas.core.actions import compare, detail

        try:
            records = [detail.show(self.app.catalogue, render_id)["record"] for render_id in (self.left, self.right)]
            rows = compare.compare(*records)
        except Exception as exc:
            self.app.call_from_thread(self.app.fail, exc, "cannot compare")
            self.app.call_from_thread(self.action_back)
            return
        self.app.call_from_thread(self.show, rows)

    def show(self, rows: list) -> None:
        self.rows = rows
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            if self.only_differences and not row.differs:
                continue
            style = "bold yellow" if row.differs else ""
            table.add_row(Text("≠" if row.differs else "", style=style), Text(cut(row.label, FIELD_WIDTH), style=style),
                          Text(shown(row.left), style=style), Text(shown(row.right), style=style), key=row.label)
        differing = sum(row.differs for row in rows)
        self.query_one("#compare-status", Static).update(
            f"{differing} of {len(rows)} rows differ (≠)" + (" · only those shown" if self.only_differences else "")
            + " · d: only the differences / all · e t v r 1-5 h: both renders · escape: back")

    def action_only_differences(self) -> None:
        self.only_differences = not self.only_differences
        self.show(self.rows)

    def action_back(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()
