"""Choose the list's columns: each toggles at once (space or enter); id and prompt always show.
A column the terminal is too narrow for still waits for the width (`results.layout`)."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList

from atlas.tui.widgets.results import CHOOSABLE, COLUMNS


class ColumnsDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape,K", "close", "close")]

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.table = table

    def compose(self) -> ComposeResult:
        labels = {column.key: column.label for column in COLUMNS}
        with Vertical(classes="dialog"):
            yield Label("Columns", classes="dialog-title")
            yield SelectionList[str](*[(labels[key], key, key not in self.table.hidden) for key in CHOOSABLE],
                                     id="columns")
            yield Label("space: show / hide · id and prompt always show · escape: close", classes="dialog-note")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        shown = set(event.selection_list.selected)
        self.table.show_columns(frozenset(key for key in CHOOSABLE if key not in shown))

    def action_close(self) -> None:
        self.dismiss(None)
