"""Small helpers for driving the TUI with Textual's Pilot: wait for workers, type a query, read the rows."""

from atlas.tui.widgets.results import ResultsTable


def table_of(app) -> ResultsTable:
    return app.screen.query_one(ResultsTable)


def status(app) -> str:
    """The main screen's status line as shown."""
    return str(app.screen.query_one("#status").render())


def row_ids(app) -> list[int]:
    table = app.screen.query_one(ResultsTable)
    return [int(key.value) for key in table.rows]


async def settle(pilot) -> None:
    """Let queued messages run and every worker (queries, counts, previews) finish."""
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def search(pilot, text: str) -> None:
    """Type `text` into the search bar and run it (the focus stays in the search bar)."""
    await pilot.press("slash")
    query = pilot.app.screen.query_one("#query")
    query.value = ""
    if text:
        await pilot.press(*text)
    await pilot.press("enter")
    await settle(pilot)


async def to_results(pilot) -> None:
    """Move the focus from the search bar to the results table (tab, as a person would)."""
    if not isinstance(pilot.app.focused, ResultsTable):
        await pilot.press("tab")
        await pilot.pause()
    assert isinstance(pilot.app.focused, ResultsTable), pilot.app.focused
