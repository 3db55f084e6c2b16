"""The help screen: every key and what it does, and the query language at a glance."""

import textwrap

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from atlas.core.search import fields

QUERY_SYNTAX = """[b]Query language[/b]
  city night                 bare words search the prompts
  sampler:"Euler a"          a field and a (quoted) value
  steps:40..60  cfg:>=7      ranges (open ends allowed) and comparisons
  -licence:CC0-1.0           a minus excludes
  kind:outpaint              renders whose lineage has an outpaint pass
  sort:-created              sort (a minus for descending); or choose a column header"""


def query_help() -> str:
    """The query language and every search field, from the field registry (markup escaped)."""
    lines = [QUERY_SYNTAX, "", "[b]Fields[/b]"]
    lines += [f"  {f.name:<14} {escape(f.help)}" for f in fields.REGISTRY]
    aliases = ", ".join(f"{alias}={name}" for alias, name in fields.ALIASES.items())
    lines += ["", *_wrap(f"aliases: {aliases}"), *_wrap(f"sortable: {' '.join(fields.SORTABLE)}")]
    return "\n".join(lines)


def _wrap(line: str) -> list[str]:
    return textwrap.wrap(line, 100, subsequent_indent="  ", break_on_hyphens=False)


QUERY_HELP = query_help()


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "close", "close")]

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        keys = [f"  {key:<12} {escape(text)}" for key, text in self.app.help_bindings()]
        half = (len(keys) + 1) // 2  # two columns: the query language stays on the first page
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static("atlas tui: browse, search, inspect lineage, preview, export", classes="dialog-title")
            yield Static("[b]Keys[/b]")
            with Horizontal(id="help-keys"):
                yield Static("\n".join(keys[:half]))
                yield Static("\n".join(keys[half:]))
            yield Static(QUERY_HELP)
            yield Static("[dim]escape closes this screen[/dim]")

    def action_close(self) -> None:
        self.dismiss(None)
