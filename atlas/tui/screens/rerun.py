"""The re-run dialog: what will be made again, with the seed and (for one txt2img pass) its settings
editable before anything starts; escape or Cancel starts nothing."""

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label

from atlas.core.settings import MAX_INT
from atlas.tui.screens.dialogs import FormDialog

# (settings key, label, type) of what a txt2img re-run lets one change besides the seed.
EDITABLE = (("prompt", "prompt", str), ("negative_prompt", "negative prompt", str), ("sampler", "sampler", str),
            ("steps", "steps", int), ("cfg", "CFG", float))


def read_seed(text: str) -> int:
    """The seed typed: blank or -1 for a random one."""
    text = text.strip()
    if not text:
        return -1
    seed = int(text)
    if not -1 <= seed <= MAX_INT:
        raise ValueError(f"the seed is a whole number from 0 to {MAX_INT} (blank: random)")
    return seed


class RerunDialog(FormDialog):
    """Returns the settings to re-run with (the seed set), or None when cancelled."""

    ERROR_ID = "rerun-error"  # a bad seed or setting: ValueError

    def __init__(self, render_id: int, settings: dict, **kwargs):
        super().__init__(**kwargs)
        self.render_id, self.settings = render_id, settings

    def compose(self) -> ComposeResult:
        recipe = "recipe" in self.settings
        what = (f"the recipe {self.settings.get('recipe_name') or ''} of run {self.settings.get('run_id')}, "
                "every pass again" if recipe else "its txt2img pass")
        with Vertical(classes="dialog"):
            yield Label(f"Re-run render {self.render_id}", classes="dialog-title")
            yield Label(f"Makes a new render from {what}.", markup=False)
            yield Label("seed (blank: a random one)")
            yield Input(value="", placeholder="random", id="seed")
            if not recipe:
                for key, label, _kind in EDITABLE:
                    yield Label(label)
                    yield Input(value=str(self.settings.get(key) or ""), id=f"set-{key}")
            yield Label("", id="rerun-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Re-run", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#seed", Input).focus()

    def chosen(self) -> dict:
        settings = dict(self.settings)
        settings["seed"] = read_seed(self.query_one("#seed", Input).value)
        if "recipe" not in settings:
            for key, label, kind in EDITABLE:
                text = self.query_one(f"#set-{key}", Input).value
                if kind is str:
                    settings[key] = text
                    continue
                try:
                    settings[key] = kind(text)
                except ValueError:
                    raise ValueError(f"{label} must be a {'whole ' if kind is int else ''}number, got {text!r}") \
                        from None
        return settings

