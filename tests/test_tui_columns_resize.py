"""Resizing the list's columns from the columns dialog (K, then < and >), driven with Pilot."""

import pytest
from textual.widgets import SelectionList

from atlas.core.catalogue import Catalogue
from atlas.tui.app import AtlasApp
from atlas.tui.screens.columns import ColumnsDialog
from atlas.tui.widgets.results import COLUMNS, WIDTH_RANGE, ResultsTable, layout
from tests.support import tui_catalogue
from tests.support.tui_pilot import search, settle, to_results

pytestmark = [pytest.mark.usefixtures("tui_notices")]


@pytest.fixture
def fixed(home):
    catalogue = Catalogue.open(home, busy_timeout=0.5)
    tui_catalogue.build(catalogue, frozen=False)
    yield catalogue
    catalogue.close()


def test_a_wider_column_leaves_the_prompt_less():
    # 187 cells: the other nine columns take 105 + 2 padding each (123), the prompt's padding and the
    # scrollbar 4, so the prompt gets 60; six more for the model leave it 54 (still above PROMPT_WANT).
    before = {c.key: c.width for c in layout(187)}
    after = {c.key: c.width for c in layout(187, widths={"model": before["model"] + 6})}
    assert before["prompt"] == 60 and after["model"] == before["model"] + 6 and after["prompt"] == 54
    assert {k: v for k, v in after.items() if k not in ("model", "prompt")} == \
        {k: v for k, v in before.items() if k not in ("model", "prompt")}


@pytest.mark.asyncio
async def test_less_and_greater_than_resize_the_highlighted_column(fixed):
    app = AtlasApp(fixed, image_mode="halfcell")
    async with app.run_test(size=(150, 45)) as pilot:
        await settle(pilot)
        await search(pilot, "lighthouse")
        await to_results(pilot)
        table = app.screen.query_one(ResultsTable)
        model = next(c.width for c in COLUMNS if c.key == "model")
        await pilot.press("K")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ColumnsDialog)
        choices = dialog.query_one(SelectionList)
        keys = [choices.get_option_at_index(i).value for i in range(choices.option_count)]
        choices.highlighted = keys.index("model")
        await pilot.press("greater_than_sign", "greater_than_sign", "greater_than_sign")
        assert str(choices.get_option_at_index(keys.index("model")).prompt) == f"model ({model + 3} wide)"
        choices.highlighted = keys.index("sampler")
        await pilot.press(*["less_than_sign"] * 40)  # stops at the narrowest
        await pilot.press("escape")
        await settle(pilot)
        widths = {c.key: c.width for c in table.columns_shown}
        assert widths["model"] == model + 3 and widths["sampler"] == WIDTH_RANGE[0]
        assert table.columns["model"].width == model + 3
        # the sampler (DPM++ 2M Karras) is cut to its new width with an ellipsis
        assert str(table.get_cell_at((0, list(widths).index("sampler")))) == "DP…"
