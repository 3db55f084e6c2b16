"""The atlas TUI: a Textual app over the core's use cases (`atlas.core.actions`), as the CLI is.

The app holds the catalogue, the selected render and the actions that work on it; the screens
and widgets only show things. Anything that can fail (a locked database, a file gone from the
store, a feature not in this build) ends as a notification, never a traceback.
"""

from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from atlas.core.actions import detail, exporting, parameters, rerun, tagging, verify
from atlas.tui.errors import explain
from atlas.tui.screens.detail import DetailScreen
from atlas.tui.screens.dialogs import AskDialog, TextDialog
from atlas.tui.screens.help import HelpScreen
from atlas.tui.screens.main import MainScreen
from atlas.tui.widgets.job_bar import JobBar

BUSY_TIMEOUT_S = 2.0  # how long a write waits for another writer before the UI says so


class AtlasApp(App):
    CSS_PATH = Path(__file__).parent / "styles" / "atlas.tcss"  # absolute: subclasses live elsewhere
    TITLE = "atlas"
    ENABLE_COMMAND_PALETTE = False

    # Actions on the selected render; each shows in the footer and in the help screen.
    BINDINGS = [
        Binding("question_mark,f1", "help", "help"),
        Binding("e", "export", "export"),
        Binding("w", "wikitext", "wikitext"),
        Binding("c", "copy_parameters", "copy params"),
        Binding("v", "verify", "verify"),
        Binding("t", "tag", "tag"),
        Binding("o", "open_folder", "open folder"),
        Binding("r", "rerun", "re-run"),
        Binding("j", "runs", "runs and queue", show=False),
        Binding("q", "quit", "quit"),
    ]
    # Keys of the screens, listed in the help screen beside the app's.
    SCREEN_KEYS = [("/", "focus the search bar"), ("enter", "run the query / open the selected render"),
                   ("up/down", "in the search bar: earlier queries"),
                   ("s", "sort by the next column (again: flip the direction)"),
                   ("click header", "sort by that column"),
                   ("in a render", "arrows walk the lineage; a pass previews its own output; p: the render's"),
                   ("escape", "back / close")]

    def __init__(self, catalogue, image_mode: str | None = None, **kwargs):
        super().__init__(**kwargs)
        from atlas.tui.widgets.preview import default_mode

        self.catalogue = catalogue
        self.image_mode = image_mode or default_mode()
        self.selected_id: int | None = None
        self.last_export: list[dict] | None = None
        self.job: dict | None = None  # the background job shown in every screen's job bar

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def help_bindings(self) -> list[tuple[str, str]]:
        keys = [(binding.key_display or binding.key.split(",")[0], binding.description)
                for binding in self.BINDINGS]
        return [(key.replace("question_mark", "?"), text) for key, text in keys] + self.SCREEN_KEYS

    # ---- helpers -----------------------------------------------------------------------------

    def fail(self, exc: BaseException, title: str = "error") -> None:
        self.notify(explain(exc), title=title, severity="error", timeout=8)

    def target(self) -> int | None:
        """The render the actions work on: the one on screen, else the selected row."""
        if self.selected_id is None:
            self.notify("no render selected", severity="warning")
        return self.selected_id

    def open_detail(self, render_id: int) -> None:
        self.selected_id = render_id
        try:
            self.push_screen(DetailScreen(render_id))
        except Exception as exc:
            self.fail(exc)

    def refresh_results(self, select: int | None = None) -> None:
        """Run the main screen's query again (a new render or tag may change what matches)."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.run_query(screen.table.text)
                if select is not None:
                    screen.select_render(select)

    # ---- actions -----------------------------------------------------------------------------

    def action_runs(self) -> None:
        from atlas.tui.screens.runs import RunsScreen

        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_export(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        default = str(Path.cwd() / "commons-export")

        def chosen(folder: str | None) -> None:
            if folder:
                self.export_worker(render_id, Path(folder))

        self.push_screen(AskDialog("Export to Commons", f"Folder to write render {render_id} into:", default),
                         chosen)

    @work(thread=True, exclusive=True, group="export")
    def export_worker(self, render_id: int, folder: Path) -> None:
        try:
            rows, page = exporting.export_render(self.catalogue, render_id, folder)
        except Exception as exc:
            self.call_from_thread(self.fail, exc, "export failed")
            return
        self.last_export = rows
        self.call_from_thread(self.exported, render_id, folder, rows, page)

    def exported(self, render_id: int, folder: Path, rows: list[dict], page: str | None) -> None:
        self.notify(f"render {render_id} exported to {folder} ({len(rows)} file{'s' if len(rows) != 1 else ''})",
                    title="exported")
        if page is not None:
            self.push_screen(TextDialog(f"Commons page written to {folder}", page))

    def action_wikitext(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        try:
            text = exporting.wikitext(self.catalogue, render_id)
        except Exception as exc:
            self.fail(exc)
            return
        self.push_screen(TextDialog(f"Commons page of render {render_id}", text))

    def action_copy_parameters(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        try:
            text = parameters.a1111_parameters(self.catalogue, render_id)
        except Exception as exc:
            self.fail(exc)
            return
        # OSC 52: terminals that allow it put this on the clipboard; no terminal says whether it
        # did, so the text is shown as well, ready to select.
        self.copy_to_clipboard(text)
        self.push_screen(TextDialog(f"A1111 parameters of render {render_id}", text,
                                    note="sent to the clipboard where the terminal allows it (OSC 52)"))

    def action_verify(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        self.verify_worker(render_id)

    @work(thread=True, exclusive=True, group="verify")
    def verify_worker(self, render_id: int) -> None:
        try:
            problems = verify.verify_render(self.catalogue, render_id)
        except Exception as exc:
            self.call_from_thread(self.fail, exc, "verify failed")
            return
        note = ""
        if problems:
            self.call_from_thread(self.push_screen, TextDialog(
                f"render {render_id}: {len(problems)} problem{'s' if len(problems) != 1 else ''}{note}",
                "\n".join(problems)))
            self.call_from_thread(self.notify, f"render {render_id} failed verification", severity="error")
        else:
            self.call_from_thread(self.notify, f"render {render_id} verified: no problems{note}", title="verify")

    def action_tag(self) -> None:
        render_id = self.target()
        if render_id is None:
            return

        def chosen(words: str | None) -> None:
            if words:
                self.tag_worker(render_id, words)

        self.push_screen(AskDialog("Tag", f"Tags for render {render_id} (name adds, -name removes):"), chosen)

    @work(thread=True, exclusive=True, group="write")
    def tag_worker(self, render_id: int, words: str) -> None:
        try:
            add, remove = tagging.split_words(words)
            tags = tagging.tag(self.catalogue, [render_id], add, remove)[render_id]
        except Exception as exc:
            self.call_from_thread(self.fail, exc, "tag failed")
            return
        self.call_from_thread(self.tagged, render_id, tags)

    def tagged(self, render_id: int, tags: list[str]) -> None:
        self.notify(f"render {render_id} tags: {' '.join(tags) or '(none)'}", title="tagged")
        if isinstance(self.screen, DetailScreen):
            self.screen.reload()

    def action_open_folder(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        try:
            folder = detail.file_path(self.catalogue, render_id).parent
        except Exception as exc:
            self.fail(exc)
            return
        import click

        # xdg-open / open / start; a headless machine has none, so the folder is named either way.
        opened = click.launch(str(folder)) == 0
        self.notify(f"{'opened' if opened else 'folder'}: {folder}", title="file folder")

    def action_rerun(self) -> None:
        render_id = self.target()
        if render_id is None:
            return
        try:
            settings = rerun.rerun_settings(self.catalogue, render_id)
        except Exception as exc:
            self.fail(exc, "cannot re-run")
            return
        if self.job is not None:
            self.notify("a re-run is already going; wait for it to finish", severity="warning")
            return
        self.set_job({"label": f"re-run of render {render_id} with a new seed", "done": 0, "total": None})
        self.rerun_worker(render_id, settings)

    @work(thread=True, exclusive=True, group="rerun")
    def rerun_worker(self, render_id: int, settings: dict) -> None:
        try:
            from atlas.engine.rerun import rerun

            new_id = rerun(self.catalogue, settings, self.job_reporter())
        except Exception as exc:
            self.call_from_thread(self.set_job, None)
            self.call_from_thread(self.fail, exc, "re-run failed")
            return
        self.call_from_thread(self.rerun_done, render_id, new_id)

    def job_reporter(self):
        """The engine's progress, from the worker thread to the job bar."""
        from atlas.engine.runner import RunProgress

        app = self

        class JobProgress(RunProgress):
            def start_pass(self, index, total, label):
                app.call_from_thread(app.set_job, {**(app.job or {}), "label": f"re-run: pass {index} of {total}, "
                                                   f"{label}", "done": 0, "total": None})

            def step(self, done, total):
                app.call_from_thread(app.job_progress, done, total)

        return JobProgress()

    def rerun_done(self, source_id: int, new_id: int) -> None:
        self.set_job(None)
        self.notify(f"render {new_id} made from the settings of render {source_id}", title="re-run done")
        self.selected_id = new_id
        self.refresh_results(select=new_id)

    def job_progress(self, done: int, total: int) -> None:
        if self.job is not None:
            self.set_job({**self.job, "done": done, "total": total})

    def set_job(self, job: dict | None) -> None:
        """Every screen has a job bar; the running job shows on whichever is on top."""
        self.job = job
        for screen in self.screen_stack:
            for bar in screen.query(JobBar):
                bar.sync(job)
