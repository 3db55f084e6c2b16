"""The facets sidebar: tags, models, samplers, licences and tools with how many of the current
query's renders have each (`atlas.core.search.facets`), counted in a worker; choosing one posts
`Chosen`, and the main screen narrows its query with it (minus: leaves that value out)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from atlas.core.terminal import safe

TITLES = {"tag": "tags", "model": "models", "sampler": "samplers", "licence": "licences", "tool": "tools"}
PER_FACET = 8  # values listed per facet: the most common ones
VALUE_WIDTH = 20  # cells for a value before it is cut (with an ellipsis)


def option_id(facet: str, index: int) -> str:
    return f"{facet}-{index}"


class FacetsPanel(Vertical):
    """Counts for one query at a time; a count for a query replaced meanwhile is dropped."""

    BINDINGS = [Binding("minus", "exclude", "leave this value out", show=False)]

    class Chosen(Message):
        def __init__(self, facet: str, value: str, exclude: bool = False) -> None:
            super().__init__()
            self.facet, self.value, self.exclude = facet, value, exclude

    def __init__(self, catalogue, **kwargs):
        super().__init__(**kwargs)
        self.catalogue = catalogue
        self.text: str | None = None  # the query the counts are for (None: none asked yet)
        self.asked = 0  # bumped by every count asked for: an older count's answer is dropped
        self.values: dict[str, tuple[str, str]] = {}  # option id -> (facet, value)

    def compose(self) -> ComposeResult:
        yield Static("facets", id="facets-title")
        yield OptionList(id="facet-options")

    @property
    def options(self) -> OptionList:
        return self.query_one("#facet-options", OptionList)

    def forget(self) -> None:
        """The catalogue may have changed (a tag, rating, hide, new render): the next `count_for`
        counts again even for the same query, and a count still running is dropped."""
        self.text = None

    def count_for(self, text: str) -> None:
        """Count the facets of `text` in a worker (nothing when they are already shown for it)."""
        if text == self.text:
            return
        self.text = text
        self.asked += 1
        asked = self.asked
        self.query_one("#facets-title", Static).update("facets: counting…")

        def work() -> None:
            from atlas.core.search import facets

            try:
                with self.catalogue.session() as session:
                    found = facets.all_counts(session, text, limit=PER_FACET)
            except Exception as exc:
                self.app.call_from_thread(self.failed, asked, exc)
                return
            self.app.call_from_thread(self.counted, asked, found)

        self.run_worker(work, thread=True, exclusive=True, group="facets")

    def failed(self, asked: int, exc: Exception) -> None:
        if asked == self.asked and self.text is not None:
            from atlas.tui.errors import explain

            self.text = None  # asked again on the next query
            self.query_one("#facets-title", Static).update(f"facets: {explain(exc)}")

    def counted(self, asked: int, found: dict) -> None:
        if asked != self.asked or self.text is None:  # the query changed, or the catalogue, while counting
            return
        self.query_one("#facets-title", Static).update("facets: enter narrows, - excludes")
        options = self.options
        highlighted = options.highlighted
        options.clear_options()
        self.values = {}
        for facet, title in TITLES.items():
            counts = found.get(facet, [])
            options.add_option(Option(Text(title, style="bold"), disabled=True))
            if not counts:
                options.add_option(Option(Text("  (none)", style="dim"), disabled=True))
            for index, count in enumerate(counts):
                key = option_id(facet, index)
                self.values[key] = (facet, count.value)
                value = safe(str(count.value))
                if len(value) > VALUE_WIDTH:
                    value = value[:VALUE_WIDTH - 1] + "…"
                options.add_option(Option(Text(f"  {value:<{VALUE_WIDTH}} {count.count:>6,}"), id=key))
        if highlighted is None or highlighted >= options.option_count:  # the first value, ready for enter
            highlighted = next((i for i in range(options.option_count)
                                if not options.get_option_at_index(i).disabled), None)
        options.highlighted = highlighted

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        chosen = self.values.get(event.option.id or "")
        if chosen is not None:
            self.post_message(self.Chosen(*chosen))

    def action_exclude(self) -> None:
        index = self.options.highlighted
        if index is None:
            return
        chosen = self.values.get(self.options.get_option_at_index(index).id or "")
        if chosen is not None:
            self.post_message(self.Chosen(*chosen, exclude=True))
