"""Small modal dialogs: ask for one line of text, show a block of text; the base of the forms."""

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, TextArea


class FormDialog(ModalScreen):
    """A form: enter or OK dismisses it with what `chosen()` makes of its fields; when that raises
    one of REFUSED, the reason shows in the label #ERROR_ID and the form stays. Escape or Cancel
    dismisses it with None."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]
    REFUSED: tuple[type[Exception], ...] = (ValueError,)
    ERROR_ID = "form-error"

    def chosen(self):
        raise NotImplementedError

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def accept(self) -> None:
        try:
            result = self.chosen()
        except self.REFUSED as exc:
            self.query_one(f"#{self.ERROR_ID}", Label).update(str(exc))
            return
        self.dismiss(result)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class AskDialog(ModalScreen[str | None]):
    """One question, one line of answer; escape cancels (result None)."""

    BINDINGS = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, prompt: str, value: str = "", **kwargs):
        super().__init__(**kwargs)
        self.title_text, self.prompt, self.value = title, prompt, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Label(self.prompt, markup=False)
            yield Input(value=self.value, id="answer")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Input.Submitted, "#answer")
    @on(Button.Pressed, "#ok")
    def accept(self) -> None:
        self.dismiss(self.query_one("#answer", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TextDialog(ModalScreen[None]):
    """A block of text (wikitext, parameters, problems) that can be read, selected and scrolled."""

    BINDINGS = [Binding("escape", "close", "close"), Binding("q", "close", "close", show=False)]

    def __init__(self, title: str, text: str, note: str = "", **kwargs):
        super().__init__(**kwargs)
        self.title_text, self.text, self.note = title, text, note

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            if self.note:
                yield Label(self.note, classes="dialog-note")
            yield TextArea(self.text, read_only=True, soft_wrap=True, id="text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Close", variant="primary", id="close")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; y or enter says yes, n or escape says no."""

    BINDINGS = [Binding("escape,n", "answer(False)", "no"), Binding("y", "answer(True)", "yes")]

    def __init__(self, title: str, question: str, yes: str = "Yes", no: str = "No", **kwargs):
        super().__init__(**kwargs)
        self.title_text, self.question, self.yes, self.no = title, question, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            yield Label(self.question)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button(f"{self.no} (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()  # the safe answer is the default

    @on(Button.Pressed, "#yes")
    def said_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def said_no(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


class ChoiceMenu(ModalScreen[str | None]):
    """A few choices, each with its own key (and a button); escape cancels (result None)."""

    def __init__(self, title: str, choices: list[tuple[str, str]], **kwargs):
        """`choices`: (key, label) pairs; the result is the chosen key."""
        super().__init__(**kwargs)
        self.title_text, self.choices = title, choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title", markup=False)
            for key, label in self.choices:
                yield Button(f"{key}  {label}", id=f"choice-{key}", classes="choice")
            yield Label("escape: cancel", classes="dialog-note")

    def on_key(self, event) -> None:
        if event.key == "escape":
            event.stop()
            self.dismiss(None)
        elif any(event.character == key for key, _label in self.choices):
            event.stop()
            self.dismiss(event.character)

    @on(Button.Pressed, ".choice")
    def chosen(self, event: Button.Pressed) -> None:
        self.dismiss((event.button.id or "").removeprefix("choice-"))
