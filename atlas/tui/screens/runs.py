"""The runs screen: every run with its state (queued, running, interrupted, failed, cancelled, done)
and the worker running it or that ran it; a selected run's recipe can be queued again for a worker
to render, instead of rendering it on this machine.

The rows come from `atlas.queue.board` (the catalogue's run table, and the queue's jobs on
PostgreSQL); they are read again every REFRESH_S seconds in a thread, so a slow or locked
database never holds the screen.
"""

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from atlas.core.terminal import safe
from atlas.queue import board
from atlas.tui.errors import explain

REFRESH_S = 2.0
STYLES = {"queued": "cyan", "running": "bold green", "interrupted": "yellow", "failed": "bold red",
          "cancelled": "dim", "done": ""}
COLUMNS = ("run", "recipe", "state", "worker", "how", "updated", "final render", "error")


def summary(rows: list[board.BoardRow]) -> str:
    """'2 queued · 1 running · 3 done' (states with no run left out), or 'no runs yet'."""
    counts = {state: sum(row.state == state for row in rows) for state in board.STATES}
    parts = [f"{count} {state}" for state, count in counts.items() if count]
    return " · ".join(parts) if parts else "no runs yet"


class RunsScreen(Screen):
    BINDINGS = [Binding("escape", "back", "back"),
                Binding("r", "requeue(False)", "queue a re-run (new seed)"),
                Binding("s", "requeue(True)", "queue a re-run (same seed)"),
                Binding("g", "reload", "refresh")]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.rows: list[board.BoardRow] = []
        self.loading = False

    def compose(self) -> ComposeResult:
        yield Static("atlas: runs", id="title")
        yield DataTable(id="runs", cursor_type="row", zebra_stripes=True)
        yield Static("", id="runs-status", markup=False)
        yield Footer()

    @property
    def table(self) -> DataTable:
        return self.query_one("#runs", DataTable)

    def on_mount(self) -> None:
        self.table.add_columns(*COLUMNS)
        self.table.focus()
        self.action_reload()
        self.set_interval(REFRESH_S, self.action_reload)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_reload(self) -> None:
        # one read at a time: a refresh due while the last is still reading (a slow database) is skipped
        if not self.loading:
            self.loading = True
            self.load_worker()

    @work(thread=True, group="runs-board")
    def load_worker(self) -> None:
        try:
            rows = board.board(self.app.catalogue)
        except Exception as exc:  # a locked or unreachable database: say so, keep the old rows
            self.app.call_from_thread(self.not_loaded, exc)
            return
        self.app.call_from_thread(self.show, rows)

    def not_loaded(self, exc: BaseException) -> None:
        self.loading = False
        self.query_one("#runs-status", Static).update(f"not refreshed: {explain(exc)}")

    def show(self, rows: list[board.BoardRow]) -> None:
        self.loading = False
        table = self.table
        selected = self.selected_run()
        self.rows = rows
        table.clear()
        for row in rows:
            # Names and errors are text from elsewhere: Text (no markup), made safe for the terminal.
            table.add_row(str(row.run_id), Text(safe(row.recipe or "")),
                          Text(row.state, style=STYLES.get(row.state, "")), Text(safe(row.worker or "")),
                          "queue" if row.queued else "local", f"{row.updated:%Y-%m-%d %H:%M:%S}",
                          "" if row.final_render_id is None else str(row.final_render_id),
                          Text(safe((row.error or "").splitlines()[0][:60])) if row.error else "", key=str(row.run_id))
        if selected is not None and any(row.run_id == selected for row in rows):
            table.move_cursor(row=table.get_row_index(str(selected)))
        self.query_one("#runs-status", Static).update(summary(rows))

    def selected_run(self) -> int | None:
        table = self.table
        if not table.row_count:
            return None
        key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(key.value) if key.value is not None else None

    def action_requeue(self, same_seed: bool) -> None:
        run_id = self.selected_run()
        if run_id is None:
            self.app.notify("no run selected", severity="warning")
            return
        self.requeue_worker(run_id, same_seed)

    @work(thread=True, group="runs-requeue")
    def requeue_worker(self, run_id: int, same_seed: bool) -> None:
        try:
            queued = board.requeue(self.app.catalogue, run_id, same_seed=same_seed)
        except Exception as exc:
            self.app.call_from_thread(self.app.notify, explain(exc), title="cannot queue a re-run",
                                      severity="error", timeout=8)
            return
        self.app.call_from_thread(self.app.notify, f"run {queued['run_id']} queued: a re-run of run {run_id} "
                                  f"(seed {queued['seed']})", title="queued")
        self.app.call_from_thread(self.action_reload)
