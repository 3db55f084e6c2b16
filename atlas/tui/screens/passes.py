"""The pass form: img2img, Outpainting mk2 or SD upscale on one render, its main settings filled in
from the render's own last pass. The request is checked here (torch-free, atlas/core/record/requests.py),
so a bad value shows in the form and nothing runs; escape or Cancel runs nothing."""

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Input, Label, Select

from atlas.core.errors import BadInput
from atlas.core.record.requests import REQUESTS, PassRequest
from atlas.core.settings import SETTINGS, SIDES, default
from atlas.tui.screens.dialogs import FormDialog
from atlas.tui.screens.rerun import read_seed

KINDS = ("img2img", "outpaint", "upscale")
# (setting, label) the form shows for every kind, then per kind; blank leaves an optional one to the input.
COMMON = (("prompt", "prompt"), ("negative_prompt", "negative prompt"), ("seed", "seed (blank: a random one)"),
          ("sampler", "sampler (blank: the input's)"), ("steps", "steps"), ("cfg", "CFG (blank: the input's)"),
          ("denoise", "denoising strength"))
EXTRA = {"img2img": (),
         "outpaint": (("pixels", "pixels to add"),),  # the side is a Select, see compose()
         "upscale": (("upscaler", "upscaler (blank: Lanczos)"), ("scale", "scale"), ("tile", "tile size"))}


def render_values(record: dict) -> dict[str, str]:
    """The form's starting text: the render's last pass (prompt, seed, sampler...), the rest the defaults."""
    lineage = record.get("lineage") or [{}]
    step = lineage[-1]
    values = {name: "" if step.get(name) is None else str(step[name]) for name, _label in COMMON}
    if not values["denoise"]:
        values["denoise"] = str(default("denoise", "img2img"))
    for name, _label in EXTRA["outpaint"] + EXTRA["upscale"]:
        kind = "outpaint" if name == "pixels" else "upscale"
        values[name] = str(default(name, kind))
    return values


def typed(name: str, text: str):
    """A field's text as its setting's type; text that is not a number goes on as it is, for the
    request's check to name (`steps must be a whole number, got 'many'`)."""
    setting = SETTINGS.get(name)
    if setting is None or setting.type is str:
        return text
    try:
        return setting.type(text.strip())
    except ValueError:
        return text


class PassDialog(FormDialog):
    """Returns the checked request of the chosen kind, or None when cancelled."""

    REFUSED = (BadInput,)
    ERROR_ID = "pass-error"

    def __init__(self, render_id: int, values: dict[str, str], **kwargs):
        super().__init__(**kwargs)
        self.render_id, self.values = render_id, values
        self.kind = "img2img"  # the kind the form shows

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"A pass on render {self.render_id}", classes="dialog-title")
            yield Label("Makes a new render from this one by the pass chosen.", markup=False)
            yield Select([(kind, kind) for kind in KINDS], value="img2img", allow_blank=False, id="kind")
            with VerticalScroll(id="pass-fields"):
                for name, label in COMMON:
                    yield Label(label, markup=False)
                    yield Input(value=self.values[name], id=f"set-{name}")
                with Vertical(id="for-outpaint"):
                    yield Label("side to grow")
                    yield Select([(side, side) for side in SIDES], value=default("side", "outpaint"),
                                 allow_blank=False, id="set-side")
                    for name, label in EXTRA["outpaint"]:
                        yield Label(label, markup=False)
                        yield Input(value=self.values[name], id=f"set-{name}")
                with Vertical(id="for-upscale"):
                    for name, label in EXTRA["upscale"]:
                        yield Label(label, markup=False)
                        yield Input(value=self.values[name], id=f"set-{name}")
            yield Label("", id="pass-error", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Run", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.show_kind("img2img")
        self.query_one("#kind", Select).focus()

    @on(Select.Changed, "#kind")
    def kind_changed(self, event: Select.Changed) -> None:
        self.show_kind(str(event.value))

    def show_kind(self, kind: str) -> None:
        for other in ("outpaint", "upscale"):
            self.query_one(f"#for-{other}").display = kind == other
        self.query_one("#pass-error", Label).update("")
        # The kinds' denoising defaults differ (A1111: img2img 0.75, SD upscale far lower): an untouched
        # default follows the kind; a value the render had or the user typed stays.
        denoise = self.query_one("#set-denoise", Input)
        if denoise.value == str(default("denoise", self.kind)):
            denoise.value = str(default("denoise", kind))
        self.kind = kind

    def chosen(self) -> PassRequest:
        """The request the form describes, checked; BadInput naming the first bad value."""
        kind = str(self.query_one("#kind", Select).value)
        text = {name: self.query_one(f"#set-{name}", Input).value for name, _label in COMMON + EXTRA[kind]}
        try:
            seed = read_seed(text.pop("seed"))
        except ValueError as exc:
            raise BadInput(str(exc) if "seed" in str(exc) else "the seed must be a whole number (blank: random)") \
                from None
        values = {name: typed(name, value) for name, value in text.items()}
        for name in ("sampler", "cfg", "upscaler"):
            if name in values and not str(values[name]).strip():
                values[name] = None  # the input's own (upscaler: Lanczos)
        if kind == "outpaint":
            values["side"] = str(self.query_one("#set-side", Select).value)
        return REQUESTS[kind](seed=seed, **values).checked()

