"""Actions that judge renders: rate (1-5, 0 clears), hide/unhide, delete (after a confirmation
that shows what goes), compare two. A mixin of `AtlasApp` (it uses `targets`, `fail`, `catalogue`,
`refresh_results`); each works on the selected rows, else the render under the cursor or on screen."""

from textual import work

from atlas.tui.lazy import lazy, lazy_attribute

# Loaded on first use: both load SQLAlchemy, which the first screen does without (tui/lazy.py).
deleting, detail, marking = (lazy(f"atlas.core.actions.{name}") for name in ("deleting", "detail", "marking"))
ConfirmDialog = lazy_attribute("atlas.tui.screens.dialogs", "ConfirmDialog")

LISTED = 6  # ids and files named in a confirmation before "and N more"


def listed(items, noun: str) -> str:
    items = [str(item) for item in items]
    shown = ", ".join(items[:LISTED]) + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}: {shown}" if items else f"no {noun}s"


def what(ids: list[int]) -> str:
    return f"render {ids[0]}" if len(ids) == 1 else f"{len(ids)} renders"


class JudgingActions:
    def thumbnails(self):
        """The home's thumbnail cache (made on first use; safe to use from workers)."""
        cache = getattr(self, "_thumbnails", None)
        if cache is None:
            from atlas.core.thumbnails import ThumbnailCache

            cache = self._thumbnails = ThumbnailCache.for_home(self.catalogue.home)
        return cache

    def action_rate(self, stars: int) -> None:
        ids = self.targets()
        if ids:
            self.judge_worker(ids, "rate", stars)

    def action_toggle_hidden(self) -> None:
        """Hide the renders; when every one of them is hidden already, show them again."""
        ids = self.targets()
        if not ids:
            return
        try:
            hidden = self.hidden_now(ids)
        except Exception as exc:
            self.fail(exc, "hide failed")
            return
        self.judge_worker(ids, "hide", not (hidden and all(hidden.get(i) for i in ids)))

    def hidden_now(self, ids: list[int]) -> dict[int, bool]:
        """Whether each render is hidden: from the rows the list has loaded, else from the render's
        facts (`atlas show`'s, which carry its rating and hidden flag): a detail screen's own first."""
        from atlas.tui.screens.detail import DetailScreen
        from atlas.tui.screens.main import MainScreen

        known: dict[int, bool] = {}
        for screen in self.screen_stack:  # bottom to top: what the screen on top shows wins
            if isinstance(screen, MainScreen):
                known.update({row.id: row.hidden for row in screen.table.loaded if row.id in ids})
            elif isinstance(screen, DetailScreen) and screen.facts is not None and screen.render_id in ids:
                known[screen.render_id] = screen.facts["hidden"]
        for render_id in ids:
            if render_id not in known:
                known[render_id] = detail.show(self.catalogue, render_id)["hidden"]
        return known

    @work(thread=True, exclusive=True, group="write")
    def judge_worker(self, ids: list[int], how: str, value) -> None:
        try:
            if how == "rate":
                marking.rate(self.catalogue, ids, value)
            else:
                marking.hide(self.catalogue, ids, value)
        except Exception as exc:
            self.call_from_thread(self.fail, exc, f"{how} failed")
            return
        self.call_from_thread(self.judged, ids, how, value)

    def judged(self, ids: list[int], how: str, value) -> None:
        if how == "rate":
            text = f"{what(ids)} rated {'★' * value}" if value else f"{what(ids)}: rating cleared"
        elif value:
            text = f"{what(ids)} hidden (searches leave them out unless they say hidden)"
        else:
            text = f"{what(ids)} shown again"
        self.notify(text, title="rated" if how == "rate" else "hidden" if value else "unhidden")
        from atlas.tui.screens.detail import DetailScreen

        if isinstance(self.screen, DetailScreen):
            self.screen.reload()  # its facts show the rating and the hidden flag
        self.refresh_results()  # a hidden render leaves the list; `rating:` queries change

    def action_delete(self) -> None:
        ids = self.targets()
        if not ids:
            return
        try:
            plan = deleting.plan(self.catalogue, ids)
        except Exception as exc:
            self.fail(exc, "cannot delete")
            return
        question = [f"Delete {listed(plan.render_ids, 'render')} from the catalogue, with their tags and "
                    "the passes that made them?",
                    f"Files removed from the store: {listed(plan.files, 'file')}." if plan.files
                    else "No file is removed from the store (other renders use them).",
                    *([f"Linked files kept where they are: {listed(plan.linked, 'file')}."] if plan.linked else [])]

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_worker(list(plan.render_ids))

        self.push_screen(ConfirmDialog("Delete?", "\n".join(question), yes="Delete", no="Keep"), answered)

    @work(thread=True, exclusive=True, group="write")
    def delete_worker(self, ids: list[int]) -> None:
        try:
            plan = deleting.delete(self.catalogue, ids)
        except Exception as exc:
            self.call_from_thread(self.fail, exc, "delete failed")
            return
        self.call_from_thread(self.deleted, plan)

    def deleted(self, plan) -> None:
        from atlas.tui.screens.detail import DetailScreen
        from atlas.tui.screens.main import MainScreen

        gone = set(plan.render_ids)
        while isinstance(self.screen, DetailScreen) and self.screen.render_id in gone:
            self.pop_screen()
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.table.marked -= gone
        if self.selected_id in gone:
            self.selected_id = None
        self.notify(f"{what(list(plan.render_ids))} deleted, {len(plan.files)} file"
                    f"{'s' if len(plan.files) != 1 else ''} removed", title="deleted")
        self.refresh_results()

    def action_compare(self) -> None:
        """Two selected renders (or the cursor's and the one selected) side by side."""
        from atlas.tui.screens.compare import CompareScreen
        from atlas.tui.screens.main import MainScreen

        ids: list[int] = []
        if isinstance(self.screen, MainScreen):
            ids = sorted(self.screen.table.marked)
            current = self.screen.table.current_id
            if len(ids) == 1 and current is not None and current not in ids:
                ids.append(current)
        if len(ids) != 2:
            self.notify("select two renders (space) to compare them", severity="warning")
            return
        self.push_screen(CompareScreen(ids[0], ids[1]))
