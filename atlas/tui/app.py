"""The atlas TUI: a Textual app over the core's use cases (`atlas.core.actions`), as the CLI is.

The app holds the catalogue, the selected render and the actions that work on it; the screens
and widgets only show things. Anything that can fail (a locked database, a file gone from the
store, a feature not in this build) ends as a notification, never a traceback.
"""

from functools import partial
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding

from atlas.core.errors import BadInput
from atlas.tui.errors import explain
from atlas.tui.file_actions import FileActions
from atlas.tui.judging import JudgingActions
from atlas.tui.lazy import lazy, lazy_attribute
from atlas.tui.screens.detail import DetailScreen
from atlas.tui.screens.help import HelpScreen
from atlas.tui.screens.main import MainScreen
from atlas.tui.widgets.job_bar import JobBar

# The use cases load SQLAlchemy: imported on first use, after the first screen (tui/lazy.py).
detail, exporting, rerun, tagging, verify = (lazy(f"atlas.core.actions.{name}") for name in
                                             ("detail", "exporting", "rerun", "tagging", "verify"))
AskDialog, ConfirmDialog, TextDialog = (lazy_attribute("atlas.tui.screens.dialogs", name) for name in
                                        ("AskDialog", "ConfirmDialog", "TextDialog"))

# The app's actions on a single render (`target`, never `targets`): none of them runs on a compare screen.
ONE_RENDER_ACTIONS = frozenset({"copy_parameters", "wikitext", "open_folder", "open_image", "fullscreen",
                                "metadata", "pass", "delete", "compare"})
BUSY_TIMEOUT_S = 2.0  # how long a write waits for another writer before the UI says so


class AtlasApp(FileActions, JudgingActions, App):
    CSS_PATH = Path(__file__).parent / "styles" / "atlas.tcss"  # absolute: subclasses live elsewhere
    TITLE = "atlas"
    ENABLE_COMMAND_PALETTE = False

    # Actions on the selected render; each shows in the footer and in the help screen.
    # `q` and `r` come first: a narrow terminal's footer cuts off its end.
    BINDINGS = [
        Binding("q", "quit", "quit"),
        Binding("r", "rerun", "re-run"),
        Binding("question_mark,f1", "help", "help"),
        Binding("e", "export", "export"),
        Binding("c", "copy_parameters", "copy"),
        Binding("t", "tag", "tag"),
        Binding("v", "verify", "verify"),
        Binding("w", "wikitext", "wikitext"),
        Binding("o", "open_folder", "open folder"),
        Binding("O", "open_image", "open in the system viewer", show=False),
        Binding("f", "fullscreen", "full-screen preview", show=False),
        Binding("m", "metadata", "the file's raw metadata", show=False),
        Binding("x", "stop_job", "stop the running re-run", show=False),
        Binding("j", "runs", "runs and queue", show=False),
        *[Binding(str(stars), f"rate({stars})", f"rate {stars} stars" if stars else "clear the rating", show=False)
          for stars in range(6)],
        Binding("h", "toggle_hidden", "hide / show again", show=False),
        Binding("d,delete", "delete", "delete from the catalogue (asks first)", show=False),
        Binding("C", "compare", "compare two selected renders", show=False),
        Binding("i", "pass", "img2img, outpaint or upscale this render (a form)", show=False),
    ]
    # Keys of the screens, listed in the help screen beside the app's.
    SCREEN_KEYS = [("/", "focus the search bar"), ("enter", "run the query / open the selected render"),
                   ("up/down", "in the search bar: earlier queries"),
                   ("tab", "from the search bar to the results"),
                   ("s", "sort by the next column (after the last: the query's own order)"),
                   ("S", "flip the sort direction"),
                   ("click header", "sort by that column (again: flip the direction)"),
                   ("home/end", "first / last row of the whole result"),
                   ("f5, ctrl+r", "run the query again (new renders show)"),
                   ("r", "asks first: seed and settings; a render of an unfinished run: resume it"),
                   ("space", "select the row (e, t, v, r then act on every selected row)"),
                   ("V", "select a range: V, move, V again; escape clears the selection"),
                   ("in a render", "arrows walk the lineage; a pass previews its own output; p: the render's"),
                   ("K", "choose the list's columns (rating among them); < > there: narrower / wider"),
                   ("p", "in the list: the preview pane beside it (shown by itself on wide terminals)"),
                   ("F", "in the list: the facets sidebar; enter on a value narrows the query"),
                   ("g", "in the list: thumbnails in a grid / the list again (arrows, enter, space as in the list)"),
                   ("escape", "back / close")]

    def __init__(self, catalogue, image_mode: str | None = None, **kwargs):
        super().__init__(**kwargs)
        from atlas.tui.graphics import default_mode

        self.catalogue = catalogue
        self.image_mode = image_mode or default_mode()
        self.selected_id: int | None = None
        self.last_export: list[dict] | None = None
        self.job: dict | None = None  # the background job shown in every screen's job bar
        self.stop_asked = False  # the user asked the running job to stop (checked between its steps)

    watch_interval: float | None = 5.0  # seconds between looks for renders added elsewhere

    def get_default_screen(self) -> MainScreen:
        return MainScreen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A compare screen shows two renders: the batch actions (`targets`) work on both, the
        actions on one render have none to work on there and leave its footer."""
        from atlas.tui.screens.compare import CompareScreen

        on_compare = bool(self.screen_stack) and isinstance(self.screen_stack[-1], CompareScreen)
        return not (on_compare and action in ONE_RENDER_ACTIONS)

    def help_bindings(self) -> list[tuple[str, str]]:
        keys = [(binding.key_display or binding.key.split(",")[0], binding.description)
                for binding in self.BINDINGS if not binding.action.startswith("rate(")]
        keys.append(("1-5, 0", "rate 1 to 5 stars; 0 clears the rating"))
        return [(key.replace("question_mark", "?"), text) for key, text in keys] + self.SCREEN_KEYS

    # ---- helpers -----------------------------------------------------------------------------

    def fail(self, exc: BaseException, title: str = "error") -> None:
        self.notify(explain(exc), title=title, severity="error", timeout=8)

    def target(self) -> int | None:
        """The render the actions work on: the one a detail screen shows, else the selected row."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, DetailScreen):
                return screen.render_id
            if isinstance(screen, MainScreen):
                break
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
        """Run the main screen's query again (a new render or tag may change what matches),
        the cursor on `select` (else on the row it was on) when that is still among the rows."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.run_query(screen.table.text, keep=select if select is not None else screen.table.current_id)

    def action_quit(self) -> None:  # type: ignore[override]
        """Quit; while a re-run is going, only after asking (quitting stops it midway)."""
        if self.job is None:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.stop_asked = True  # the engine records the run as interrupted, so it can be resumed
                self.exit()

        self.push_screen(ConfirmDialog("Quit?", f"{self.job['label']} is still going; quitting stops it and "
                                       "leaves it unfinished.", yes="Quit", no="Keep going"), answered)

    # ---- actions -----------------------------------------------------------------------------

    def action_runs(self) -> None:
        from atlas.tui.screens.runs import RunsScreen

        if not isinstance(self.screen, RunsScreen):
            self.push_screen(RunsScreen())

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def targets(self) -> list[int]:
        """The renders a batch action works on: the two a compare screen shows, else the rows
        selected in the list, else the one target."""
        from atlas.tui.screens.compare import CompareScreen

        if isinstance(self.screen, CompareScreen):
            return [self.screen.left, self.screen.right]
        if isinstance(self.screen, MainScreen) and self.screen.table.marked:
            return sorted(self.screen.table.marked)
        render_id = self.target()
        return [] if render_id is None else [render_id]

    def action_export(self) -> None:
        ids = self.targets()
        if not ids:
            return
        default = str(Path.cwd() / "commons-export")
        what = f"render {ids[0]}" if len(ids) == 1 else f"{len(ids)} renders (one upload batch)"

        def chosen(folder: str | None) -> None:
            if folder:
                self.export_worker(ids, Path(folder))

        self.push_screen(AskDialog("Export to Commons", f"Folder to write {what} into:", default), chosen)

    @work(thread=True, exclusive=True, group="export")
    def export_worker(self, ids: list[int], folder: Path) -> None:
        try:
            if len(ids) == 1:
                rows, page = exporting.export_render(self.catalogue, ids[0], folder)
            else:  # one export call: one batch.jsonl and upload.py for them all
                if folder.expanduser().exists() and not folder.expanduser().is_dir():
                    raise BadInput(f"export folder {folder}: exists and is not a folder")
                rows, page = exporting.export(self.catalogue, folder.expanduser(), ids), None
        except Exception as exc:
            self.call_from_thread(self.fail, without_flag(exc), "export failed")
            return
        self.last_export = rows
        self.call_from_thread(self.exported, ids, folder, rows, page)

    def exported(self, ids: list[int], folder: Path, rows: list[dict], page: str | None) -> None:
        what = f"render {ids[0]}" if len(ids) == 1 else f"{len(ids)} renders"
        self.notify(f"{what} exported to {folder} ({files_written(rows)})", title="exported")
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

    def action_verify(self) -> None:
        ids = self.targets()
        if ids:
            self.verify_worker(ids)

    @work(thread=True, exclusive=True, group="verify")
    def verify_worker(self, ids: list[int]) -> None:
        found: dict[int, list[str]] = {}
        for render_id in ids:
            try:
                found[render_id] = verify.verify_render(self.catalogue, render_id)
            except Exception as exc:
                if len(ids) == 1:
                    self.call_from_thread(self.fail, exc, "verify failed")
                    return
                found[render_id] = [explain(exc)]
        self.call_from_thread(self.verified, found)

    def verified(self, found: dict[int, list[str]]) -> None:
        bad = {render_id: problems for render_id, problems in found.items() if problems}
        if len(found) == 1:
            render_id = next(iter(found))
            if bad:
                problems = bad[render_id]
                self.push_screen(TextDialog(
                    f"render {render_id}: {len(problems)} problem{'s' if len(problems) != 1 else ''}",
                    "\n".join(problems)))
                self.notify(f"render {render_id} failed verification", severity="error")
            else:
                self.notify(f"render {render_id} verified: no problems", title="verify")
            return
        if bad:
            self.push_screen(TextDialog(f"{len(bad)} of {len(found)} renders failed verification", "\n".join(
                f"render {render_id}:\n" + "\n".join(f"  {p}" for p in problems)
                for render_id, problems in bad.items())))
            self.notify(f"{len(bad)} of {len(found)} renders failed verification", severity="error")
        else:
            self.notify(f"{len(found)} renders verified: no problems", title="verify")

    def action_tag(self) -> None:
        ids = self.targets()
        if not ids:
            return
        what = f"render {ids[0]}" if len(ids) == 1 else f"the {len(ids)} selected renders"

        def chosen(words: str | None) -> None:
            if words:
                self.tag_worker(ids, words)

        self.push_screen(AskDialog("Tag", f"Tags for {what} (name adds, -name removes):"), chosen)

    @work(thread=True, exclusive=True, group="write")
    def tag_worker(self, ids: list[int], words: str) -> None:
        try:
            add, remove = tagging.split_words(words)
            tags = tagging.tag(self.catalogue, ids, add, remove)
        except Exception as exc:
            self.call_from_thread(self.fail, exc, "tag failed")
            return
        self.call_from_thread(self.tagged, tags)

    def tagged(self, tags: dict[int, list[str]]) -> None:
        if len(tags) == 1:
            render_id, names = next(iter(tags.items()))
            self.notify(f"render {render_id} tags: {' '.join(names) or '(none)'}", title="tagged")
        else:
            self.notify(f"tags changed on {len(tags)} renders", title="tagged")
        if isinstance(self.screen, DetailScreen):
            self.screen.reload()
        self.refresh_results()  # the new tags may change what the query matches

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
        """Ask first (seed and settings editable); several selected renders: one confirmation for all."""
        if self.job is not None:
            self.notify("a re-run is already going; wait for it to finish", severity="warning")
            return
        ids = self.targets()
        if not ids:
            return
        if len(ids) == 1 and self.offer_resume(ids[0]):
            return
        found = []
        for render_id in ids:
            try:
                found.append((render_id, rerun.rerun_settings(self.catalogue, render_id)))
            except Exception as exc:
                self.fail(exc, "cannot re-run")
                return
        if len(found) == 1:
            self.new_rerun(found[0][0])
            return
        self.push_screen(ConfirmDialog("Re-run", f"Make {len(found)} new renders, one from each selected render's "
                                       "settings with a new seed?", yes="Re-run", no="Cancel"),
                         lambda yes: self.start_reruns(found) if yes else None)

    def offer_resume(self, render_id: int) -> bool:
        """A render of a run that did not finish: offer to resume that run (or re-run as usual)."""
        from atlas.tui.screens.dialogs import ChoiceMenu

        try:
            run = rerun.unfinished_run(self.catalogue, render_id)
        except Exception:
            return False  # the usual path says what is wrong
        if run is None:
            return False

        def chosen(key: str | None) -> None:
            if key == "u":
                self.stop_asked = False
                self.set_job({"label": f"resuming run {run['run_id']}", "done": 0, "total": None})
                self.resume_worker(render_id, run["run_id"])
            elif key == "n":
                self.new_rerun(render_id)

        self.push_screen(ChoiceMenu(f"Render {render_id} is from run {run['run_id']}, which is {run['status']}",
                                    [("u", f"resume run {run['run_id']} at its first unfinished pass"),
                                     ("n", "a new render from this render's settings")]), chosen)
        return True

    def new_rerun(self, render_id: int) -> None:
        from atlas.tui.screens.rerun import RerunDialog

        try:
            settings = rerun.rerun_settings(self.catalogue, render_id)
        except Exception as exc:
            self.fail(exc, "cannot re-run")
            return
        self.push_screen(RerunDialog(render_id, settings),
                         lambda chosen: self.start_reruns([(render_id, chosen)]) if chosen else None)

    @work(thread=True, exclusive=True, group="rerun")
    def resume_worker(self, render_id: int, run_id: int) -> None:
        from atlas.engine.runner import resume

        def step() -> int:
            run = resume(self.catalogue, run_id, progress=self.job_reporter())
            if run.final_render_id is None:
                raise RuntimeError(f"run {run_id} ended {run.status} without a final render")
            return run.final_render_id

        new_id = self.job_step(step, f"run {run_id}", f"resuming run {run_id} failed")
        if new_id is not None:
            self.call_from_thread(self.rerun_done, render_id, new_id)

    def start_reruns(self, todo: list[tuple[int, dict]]) -> None:
        if self.job is not None:
            return
        first = todo[0][0]
        label = f"re-run of render {first}" if len(todo) == 1 else f"re-run of {len(todo)} renders"
        self.stop_asked = False
        self.set_job({"label": label, "done": 0, "total": None})
        self.rerun_worker(todo)

    @work(thread=True, exclusive=True, group="rerun")
    def rerun_worker(self, todo: list[tuple[int, dict]]) -> None:
        from atlas.engine.rerun import rerun as make_again

        for render_id, settings in todo:
            new_id = self.job_step(partial(make_again, self.catalogue, settings, self.job_reporter()),
                                   f"the re-run of render {render_id}", f"re-run of render {render_id} failed")
            if new_id is None:
                return
            self.call_from_thread(self.rerun_done, render_id, new_id, render_id == todo[-1][0])

    def action_pass(self) -> None:
        """A form (screens/passes.py), then the pass in a worker as a re-run goes: job bar, `x` stops it."""
        from atlas.tui.screens.passes import PassDialog, render_values

        render_id = self.target()
        if render_id is None:
            return
        if self.job is not None:
            self.notify("a job is already going; wait for it to finish", severity="warning")
            return
        try:
            values = render_values(detail.show(self.catalogue, render_id)["record"])
        except Exception as exc:
            self.fail(exc, "cannot make a pass")
            return

        def chosen(request) -> None:
            if request is not None and self.job is None:
                self.stop_asked = False
                self.set_job({"label": f"{request.kind} of render {render_id}", "done": 0, "total": None})
                self.pass_worker(render_id, request)

        self.push_screen(PassDialog(render_id, values), chosen)

    @work(thread=True, exclusive=True, group="rerun")
    def pass_worker(self, render_id: int, request) -> None:
        from atlas.core.record.write import RenderInfo
        from atlas.engine import passes

        # The output's author and licence as `atlas img2img` sets them: the config's, else CC0-1.0.
        config = self.catalogue.home.config()
        info = RenderInfo(author=config.get("author", {}).get("name"),
                          licence_id=config.get("defaults", {}).get("licence") or "CC0-1.0")
        def step():
            return getattr(passes, request.kind)(self.catalogue, render_id, request, info,
                                                 progress=self.job_reporter().step)

        render = self.job_step(step, f"the {request.kind} of render {render_id}",
                               f"{request.kind} of render {render_id} failed")
        if render is not None:
            self.call_from_thread(self.rerun_done, render_id, render.id, made=f"by {request.kind} from render",
                                 title=f"{request.kind} done")

    def job_step(self, step, what: str, failed: str):
        """`step()` in a job's worker thread; its result, or None when the user stopped it (said as
        "`what` stopped") or it failed (said under the title `failed`): the job is over then."""
        try:
            return step()
        except JobStopped:
            self.call_from_thread(self.stopped, what)
        except Exception as exc:
            self.call_from_thread(self.set_job, None)
            self.call_from_thread(self.fail, exc, failed)
        return None

    def job_reporter(self):
        """The engine's progress, from the worker thread to the job bar."""
        from atlas.engine.runner import RunProgress

        app = self

        class JobProgress(RunProgress):
            def start_pass(self, index, total, label):
                app.stop_if_asked()
                app.call_from_thread(app.set_job, {**(app.job or {}), "label": f"re-run: pass {index} of {total}, "
                                                   f"{label}", "done": 0, "total": None})

            def step(self, done, total):
                app.stop_if_asked()
                app.call_from_thread(app.job_progress, done, total)

        return JobProgress()

    def stop_if_asked(self) -> None:
        """In the worker, between steps: raise JobStopped when the user asked to stop the job."""
        if self.stop_asked:
            raise JobStopped

    def action_stop_job(self) -> None:
        if self.job is None:
            self.notify("nothing is running", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes and self.job is not None:
                self.stop_asked = True
                self.set_job({**self.job, "label": f"{self.job['label']}: stopping after this step"})

        self.push_screen(ConfirmDialog("Stop?", f"Stop {self.job['label']} after the current step? A recipe "
                                       "run can be resumed later (r on one of its renders).", yes="Stop",
                                       no="Keep going"), answered)

    def stopped(self, what: str) -> None:
        self.set_job(None)
        self.notify(f"{what} stopped; a recipe run stopped midway can be resumed with r on one of its renders",
                    title="stopped", severity="warning")
        self.refresh_results()

    def rerun_done(self, source_id: int, new_id: int, last: bool = True,
                   made: str = "from the settings of render", title: str = "re-run done") -> None:
        if last:
            self.set_job(None)
        # A detail screen keeps its render (its keys act on what it shows); the list selects the new one.
        on_detail = any(isinstance(screen, DetailScreen) for screen in self.screen_stack)
        where = "; it is selected in the list" if on_detail else ""
        self.notify(f"render {new_id} made {made} {source_id}{where}", title=title)
        if not on_detail:
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


def files_written(rows: list[dict]) -> str:
    """'5 files: 1 image, its Commons page and provenance, batch.jsonl and upload.py' for the rows of an export."""
    images = len(rows)
    # per image its file, Commons page and provenance; per folder batch.jsonl and upload.py
    files = len({row[key] for row in rows for key in ("path", "wikitext", "provenance") if row.get(key)}) + 2
    return (f"{files} files: {images} image{'s' if images != 1 else ''}, "
            f"{'its' if images == 1 else 'their'} Commons page{'s' if images != 1 else ''} and provenance, "
            "batch.jsonl and upload.py")


def without_flag(exc: BaseException) -> BaseException:
    """The export's errors name the CLI's `--to`; here the folder was typed into a dialog."""
    from atlas.core.errors import BadInput

    text = str(exc)
    if isinstance(exc, BadInput) and text.startswith("--to "):
        return BadInput("export folder " + text[len("--to "):])
    return exc


class JobStopped(KeyboardInterrupt):
    """Raised in a re-run's worker when the user stops it: a KeyboardInterrupt, so the engine records
    the pass and run as interrupted (as Ctrl-C would) and the run can be resumed."""
