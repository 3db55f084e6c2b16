"""The headless browse core under the TUI (`atlas.core.actions.browse`), on SQLite and PostgreSQL."""

import pytest

from atlas.core.actions import browse
from atlas.core.catalogue import Catalogue
from atlas.core.errors import BadInput
from atlas.core.search.parse import QuerySyntaxError
from tests.support import tui_catalogue


def build(home):
    catalogue = Catalogue.open(home)
    return catalogue, tui_catalogue.build(catalogue, frozen=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fixed(request, home):
    if request.param == "postgresql":
        request.getfixturevalue("pg_home")
    catalogue, ids = build(home)
    assert catalogue.engine.dialect.name == request.param
    yield catalogue, ids
    catalogue.close()


def test_pages_sorted_by_every_column(fixed):
    catalogue, ids = fixed
    with catalogue.session() as session:
        everything = browse.page(session, "", limit=100)
        assert [row.id for row in everything] == sorted(ids["chain"] + ids["singles"], reverse=True)
        for key in browse.SORT_FIELDS:
            for descending in (False, True):
                rows = browse.page(session, "", sort=key, descending=descending)
                values = [_value(row, key) for row in rows]
                assert values == sorted(values, reverse=descending), (key, descending)
        # pages are consecutive slices of one order
        first, second = browse.page(session, "", 0, 8, "seed", False), browse.page(session, "", 8, 8, "seed", False)
        whole = browse.page(session, "", 0, 16, "seed", False)
        assert [r.id for r in first + second] == [r.id for r in whole]


def _value(row, key):
    if key == "size":
        return row.width * row.height
    value = getattr(row, key)
    return (value or "").lower() if isinstance(value, str) or value is None else value


def test_query_rows_count_and_column_sort_over_the_query(fixed):
    catalogue, ids = fixed
    with catalogue.session() as session:
        rows = browse.page(session, "fox")
        assert [r.id for r in rows] == [ids["singles"][2], ids["singles"][0]]
        assert browse.count(session, "fox") == 2
        assert browse.count(session, "") == 21
        assert browse.count(session, "kind:outpaint") == 16  # the 14 outpaints and both upscales made from them
        # a column sort wins over the query's own order; without one the query's sort: applies
        assert [r.seed for r in browse.page(session, "-kind:outpaint", sort="seed", descending=False)] == \
            [101, 202, 303, 404, 1234]
        assert [r.seed for r in browse.page(session, "-kind:outpaint sort:-seed")] == [1234, 404, 303, 202, 101]
        row = browse.page(session, "id:" + str(ids["chain"][-1]))[0]
        assert (row.model, row.sampler, row.steps, row.cfg, row.licence, row.kind) == \
            ("sd-v1-4", "Euler a", 150, 7.0, "CC0-1.0", "upscale")


def test_check_query_names_the_column():
    browse.check_query('sampler:"Euler a" steps:40..60')
    with pytest.raises(QuerySyntaxError) as caught:
        browse.check_query("city steps:4x")
    assert caught.value.column == 6 and caught.value.token == "steps:4x"


def test_detail_lineage_groups_and_licences(catalogue):
    ids = tui_catalogue.build(catalogue, frozen=False)
    facts = browse.detail(catalogue, ids["chain"][-1])
    groups = browse.lineage_groups(facts["record"]["lineage"])
    assert [(kind, len(steps)) for kind, steps in groups] == [("txt2img", 1), ("outpaint", 14), ("upscale", 2)]
    assert facts["pass_renders"] == ids["chain"]
    assert facts["exists"] and facts["c2pa"] == "not signed"
    [licence] = facts["model_licences"]
    assert licence["id"] == "creativeml-openrail-m" and len(licence["restrictions"]) > 5
    browse.file_path(catalogue, ids["chain"][-1]).unlink()
    facts = browse.detail(catalogue, ids["chain"][-1])
    assert not facts["exists"] and facts["c2pa"] == "file missing"
    with pytest.raises(browse.MissingFile, match="missing from the store"):
        browse.file_path(catalogue, ids["chain"][-1])


def test_tag_and_rerun_settings(catalogue):
    ids = tui_catalogue.build(catalogue, frozen=False)
    single = ids["singles"][1]
    assert browse.tag(catalogue, single, "night storm") == ["night", "storm"]
    assert browse.tag(catalogue, single, "-night") == ["storm"]
    with pytest.raises(BadInput, match="no tags given"):
        browse.tag(catalogue, single, "   ")
    settings = browse.rerun_settings(catalogue, single)
    assert (settings["prompt"], settings["sampler"], settings["steps"], settings["cfg"], settings["licence"]) == \
        ("a lighthouse at night, storm, cinematic", "DPM++ 2M Karras", 30, 7.0, "CC0-1.0")
    with pytest.raises(BadInput, match="txt2img -> outpaint.* outside a recipe run"):
        browse.rerun_settings(catalogue, ids["chain"][-1])
    assert browse.a1111_parameters(catalogue, single).splitlines()[-1].startswith(
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 202")
