"""Choose the list's columns: each toggles at once (space or enter), `<` and `>` narrow and widen
the highlighted one; id and prompt always show (the prompt takes what the others leave). A column
the terminal is too narrow for still waits for the width (`results.layout`)."""

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, SelectionList

from atlas.tui.widgets.results import CHOOSABLE, COLUMNS

LABELS = {column.key: column.label for column in COLUMNS}


class ColumnsDialog(ModalScreen[None]):
    BINDINGS = [Binding("escape,K", "close", "close"),
                Binding("less_than_sign", "resize(-1)", "narrower"), Binding("greater_than_sign", "resize(1)", "wider")]

    def __init__(self, table, **kwargs):
        super().__init__(**kwargs)
        self.table = table

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Columns", classes="dialog-title")
            yield SelectionList[str](*[(self.label(key), key, key not in self.table.hidden) for key in CHOOSABLE],
                                     id="columns")
            yield Label("space: show / hide · < >: narrower / wider · id and prompt always show · escape: close",
                        classes="dialog-note")

    def label(self, key: str) -> str:
        return f"{LABELS[key]} ({self.table.width_of(key)} wide)"

    def action_resize(self, delta: int) -> None:
        choices = self.query_one(SelectionList)
        if choices.highlighted is None:
            return
        key = CHOOSABLE[choices.highlighted]
        self.table.resize_column(key, delta)
        choices.replace_option_prompt_at_index(choices.highlighted, self.label(key))

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged) -> None:
        shown = set(event.selection_list.selected)
        self.table.show_columns(frozenset(key for key in CHOOSABLE if key not in shown))

    def action_close(self) -> None:
        self.dismiss(None)
