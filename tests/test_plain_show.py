"""`atlas show` read with sqlite3 (`record/plain.py`) says what the SQLAlchemy path says, for every
render of a varied catalogue and of one written through atlas's real write path."""

import json

import pytest

from atlas.core.actions import detail, reading
from atlas.core.catalogue import Catalogue
from atlas.core.catalogue.home import Home
from atlas.core.catalogue.reader import open_reader
from atlas.core.errors import NotFound
from atlas.core.record import plain
from tests.support.varied_catalogue import fill


def agree(catalogue: Catalogue, home: Home) -> int:
    connection = open_reader(home)
    assert connection is not None
    try:
        ids = [row[0] for row in connection.execute("SELECT id FROM render ORDER BY id")]
        for render_id in ids:
            expected = detail.show(catalogue, render_id)
            found = plain.describe(connection, home.store, render_id)
            # as printed (`--json`): the same text, key order included
            assert json.dumps(found, default=str) == json.dumps(expected, default=str), render_id
    finally:
        connection.close()
    return len(ids)


def test_every_render_of_a_varied_catalogue(tmp_path):
    home = Home.resolve(tmp_path / "home")
    catalogue = Catalogue.open(home)
    try:
        fill(home.database_path, 250)
        assert agree(catalogue, home) == 250
    finally:
        catalogue.close()


def test_every_render_written_by_atlas(tmp_path):
    from tests.support.tui_catalogue import build

    home = Home.resolve(tmp_path / "home")
    catalogue = Catalogue.open(home)
    try:
        build(catalogue)
        with catalogue.engine.connect() as conn:
            lineage = conn.exec_driver_sql("SELECT count(*) FROM pass WHERE input_render_id IS NOT NULL").scalar()
        assert lineage > 10  # lineages, models, runs: more than the varied catalogue has
        assert agree(catalogue, home) > 10
    finally:
        catalogue.close()


@pytest.mark.parametrize("bad", ["x", "0", "99999", str(2**70)])
def test_a_missing_render_is_named_as_the_sqlalchemy_path_names_it(tmp_path, bad):
    home = Home.resolve(tmp_path / "home")
    catalogue = Catalogue.open(home)
    try:
        with pytest.raises(NotFound) as slow:
            detail.show(catalogue, bad)
    finally:
        catalogue.close()
    with pytest.raises(NotFound) as fast:
        reading.show(str(home.root), bad)
    assert str(fast.value) == str(slow.value)


def test_the_rating_and_hidden_flag_sit_beside_the_record_on_both_paths(tmp_path):
    """Both readers print the judgement `atlas rate` and `atlas hide` wrote, outside the record."""
    from atlas.core.actions import marking
    from tests.support.tui_catalogue import build

    home = Home.resolve(tmp_path / "home")
    catalogue = Catalogue.open(home)
    try:
        ids = build(catalogue)
        rated, hidden, plain_one = ids["singles"][:3]
        marking.rate(catalogue, [rated], 4)
        marking.hide(catalogue, [hidden])
        connection = open_reader(home)
        assert connection is not None
        try:
            for render_id, expected in ((rated, (4, False)), (hidden, (None, True)), (plain_one, (None, False))):
                for facts in (detail.show(catalogue, render_id), plain.describe(connection, home.store, render_id)):
                    assert (facts["rating"], facts["hidden"]) == expected, render_id
                    assert not {"rating", "hidden"} & set(facts["record"]["render"]), render_id
        finally:
            connection.close()
    finally:
        catalogue.close()
