"""The search bar: the query language with live validation, enter to run, history on up/down."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from atlas.core.actions import browsing as listing
from atlas.core.errors import BadInput


class QueryInput(Input):
    """An Input that walks back through earlier queries with up/down."""

    BINDINGS = [Binding("up", "history(-1)", "older query", show=False),
                Binding("down", "history(1)", "newer query", show=False)]

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.history: list[str] = []
        self.position = 0

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self.position = len(self.history)

    def action_history(self, delta: int) -> None:
        if not self.history:
            return
        self.position = max(0, min(len(self.history), self.position + delta))
        self.value = self.history[self.position] if self.position < len(self.history) else ""
        self.cursor_position = len(self.value)


class SearchBar(Vertical):
    """Query input plus a line under it that points at the error, if any, as you type."""

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def compose(self) -> ComposeResult:
        yield QueryInput(placeholder='search: sampler:"Euler a" cfg:7 steps:40..60 city   (enter runs)',
                         id="query")
        yield Static("", id="query-error", markup=False)  # shows the typed text: no markup

    @property
    def input(self) -> QueryInput:
        return self.query_one(QueryInput)

    def problem(self, text: str) -> str | None:
        """The error for `text` with a caret under its column, or None when it parses."""
        try:
            listing.check_query(text)
        except BadInput as exc:
            column = getattr(exc, "column", None)
            if column is None:
                return str(exc)
            # Columns from the parser count from 1. The input's text starts 4 cells in (the search bar's
            # padding 1, the input's border 1 and its padding 2), this line 1 cell in: 3 cells more.
            caret = " " * (max(int(column), 1) - 1 + 3) + "^"
            return f"{caret}\n{exc}"
        return None

    @on(Input.Changed, "#query")
    def validate_live(self, event: Input.Changed) -> None:
        error = self.problem(event.value)
        note = self.query_one("#query-error", Static)
        note.update(error or "")
        note.set_class(bool(error), "visible")
        self.input.set_class(bool(error), "-invalid")

    @on(Input.Submitted, "#query")
    def run_query(self, event: Input.Submitted) -> None:
        event.stop()
        if self.problem(event.value):
            self.app.bell()
            return
        self.input.remember(event.value)
        self.post_message(self.Submitted(event.value))
