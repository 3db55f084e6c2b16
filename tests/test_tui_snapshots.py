"""Snapshots (pytest-textual-snapshot) of the main and detail screens on the fixed catalogue.

The catalogue is built with a frozen clock under a home that sits in `$HOME` (shown as `~/...`),
so every byte on screen is the same on every run. Update after an intended change with
`pytest tests/test_tui_snapshots.py --snapshot-update` and look at the SVGs.
"""

import pytest

from atlas.core.catalogue import Catalogue
from atlas.tui.app import AtlasApp
from tests.support import tui_catalogue

SIZE = (150, 45)


@pytest.fixture
def snapshot_app(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ATLAS_HOME", str(tmp_path / "atlas"))
    catalogue = Catalogue.open(tmp_path / "atlas")
    ids = tui_catalogue.build(catalogue, frozen=True)
    yield AtlasApp(catalogue, image_mode="halfcell"), ids
    catalogue.close()


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()  # the preview decodes in a thread
    await pilot.pause()


def test_main_screen(snap_compare, snapshot_app):
    app, _ids = snapshot_app
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_main_screen_with_a_query_error(snap_compare, snapshot_app):
    app, _ids = snapshot_app
    assert snap_compare(app, terminal_size=SIZE, press=["slash", *'sampler:"Euler a" steps:4x'],
                        run_before=settle)


def test_detail_screen(snap_compare, snapshot_app):
    app, _ids = snapshot_app

    async def open_detail(pilot):
        await settle(pilot)
        await pilot.press("enter")  # the newest render: end of the 17-pass lineage
        await settle(pilot)
        tree = pilot.app.screen.query_one("#lineage")
        tree.root.children[1].expand()  # outpaint x14
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_detail)
