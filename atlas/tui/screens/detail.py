"""The detail screen of one render: preview, facts and licences beside its lineage tree."""

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static, Tree

from atlas.tui.lazy import lazy
from atlas.tui.widgets.detail_pane import DetailPane
from atlas.tui.widgets.job_bar import JobBar
from atlas.tui.widgets.lineage import LineageTree
from atlas.tui.widgets.preview import Preview

c2pa, detail = lazy("atlas.core.actions.c2pa"), lazy("atlas.core.actions.detail")  # tui/lazy.py


class DetailScreen(Screen):
    # q closes this screen as escape does (quitting the app from here is one key too easy).
    BINDINGS = [Binding("escape,q", "back", "back"),
                Binding("p", "preview_render", "preview this render", show=False)]

    def __init__(self, render_id: int, **kwargs):
        super().__init__(**kwargs)
        self.render_id = render_id
        self.facts: dict | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"render {self.render_id}", id="title")
        with Horizontal(id="detail-body"):
            with Vertical(id="detail-left"):
                yield Preview(self.app.image_mode, id="preview")
                yield Static("", id="preview-caption", markup=False)
            with Vertical(id="detail-right"):
                yield LineageTree("lineage", id="lineage")
                with VerticalScroll(id="facts-scroll"):
                    yield DetailPane(id="facts")
        yield JobBar(classes="job")
        yield Footer()

    def on_mount(self) -> None:
        self.app.selected_id = self.render_id
        if self.reload():
            self.query_one(LineageTree).focus()
        else:
            self.app.pop_screen()

    def reload(self) -> bool:
        """Show the render's facts again; False (and a notification) when they cannot be read."""
        try:
            facts = detail.detail(self.app.catalogue, self.render_id)
        except Exception as exc:
            from atlas.tui.errors import explain

            self.app.notify(explain(exc), title=f"render {self.render_id}", severity="error")
            return False
        facts["linked"] = is_linked(self.app.catalogue, facts["path"])
        self.facts = facts
        self.query_one(DetailPane).show(facts)
        if facts["exists"] and facts["c2pa"].startswith("signed"):
            self.check_c2pa(self.render_id)
        self.query_one(LineageTree).show(facts["record"]["lineage"], facts["pass_renders"])
        self.show_preview(self.render_id)
        if not facts["exists"]:
            self.app.notify(missing_file_note(self.app.catalogue, self.render_id, facts["path"]),
                            title="missing file", severity="error")
        return True

    @work(thread=True, exclusive=True, group="c2pa")
    def check_c2pa(self, render_id: int) -> None:
        """Validate the signature off the UI thread, then put the verdict in the facts."""
        try:
            state = c2pa.c2pa_description(self.app.catalogue, render_id)
        except Exception as exc:
            from atlas.tui.errors import explain

            state = f"cannot read the manifest: {explain(exc)}"
        self.app.call_from_thread(self.c2pa_checked, render_id, state)

    def c2pa_checked(self, render_id: int, state: str) -> None:
        if render_id == self.render_id and self.facts is not None:
            self.facts["c2pa"] = state
            self.query_one(DetailPane).show(self.facts)

    def show_preview(self, render_id: int) -> None:
        """Preview the render itself or the output of one of its passes."""
        if render_id == self.render_id and self.facts is not None:
            path = self.facts["path"]
        else:
            try:
                path = str(detail.file_path(self.app.catalogue, render_id))
            except Exception as exc:
                from atlas.tui.errors import explain

                self.app.notify(explain(exc), severity="error")
                path = None
        from pathlib import Path

        gone = "linked file gone from where it was imported" if is_linked(self.app.catalogue, path) else None
        self.query_one(Preview).show(Path(path) if path else None, gone)
        self.query_one("#preview-caption", Static).update(
            f"preview: render {render_id}" + ("" if render_id == self.render_id else " (a pass in the lineage)"))

    @on(Tree.NodeHighlighted, "#lineage")
    def pass_highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        if data and data[0] == "pass" and data[2] is not None:
            self.show_preview(data[2])

    def action_preview_render(self) -> None:
        """Back from a pass's preview to the render's own."""
        self.show_preview(self.render_id)

    def action_back(self) -> None:
        self.app.pop_screen()


def is_linked(catalogue, path: str | None) -> bool:
    """Whether `path` is a linked import's file, where it lay when imported (not in the store)."""
    from pathlib import Path

    if not path:
        return False
    return not Path(path).is_relative_to(catalogue.store.root)


def missing_file_note(catalogue, render_id: int, path: str | None) -> str:
    if is_linked(catalogue, path):
        return f"render {render_id}: its linked file is gone ({path}); it was imported without a copy"
    return f"render {render_id}: its file is missing from the store ({path})"
