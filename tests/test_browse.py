"""The use cases under the TUI and the CLI (`atlas.core.actions`) and the row query they page with
(`atlas.core.search.rows`), on SQLite and PostgreSQL."""

import pytest

from atlas.core.actions import detail, listing, parameters, rerun, tagging
from atlas.core.catalogue import Catalogue
from atlas.core.commons.procedure import groups
from atlas.core.errors import BadInput, NotFound
from atlas.core.search import rows as search_rows
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
        everything = search_rows.page(session, "", limit=100)
        assert [row.id for row in everything] == sorted(ids["chain"] + ids["singles"], reverse=True)
        for key in search_rows.SORT_FIELDS:
            for descending in (False, True):
                rows = search_rows.page(session, "", sort=key, descending=descending)
                values = [_value(row, key) for row in rows]
                assert values == sorted(values, reverse=descending), (key, descending)
        # pages are consecutive slices of one order
        first = search_rows.page(session, "", 0, 8, "seed", False)
        second = search_rows.page(session, "", 8, 8, "seed", False)
        whole = search_rows.page(session, "", 0, 16, "seed", False)
        assert [r.id for r in first + second] == [r.id for r in whole]


def _value(row, key):
    if key == "size":
        return row.width * row.height
    value = getattr(row, key)
    return (value or "").lower() if isinstance(value, str) or value is None else value


def test_query_rows_count_and_column_sort_over_the_query(fixed):
    catalogue, ids = fixed
    with catalogue.session() as session:
        rows = search_rows.page(session, "fox")
        assert [r.id for r in rows] == [ids["singles"][2], ids["singles"][0]]
        assert search_rows.count(session, "fox") == 2
        assert search_rows.count(session, "") == 21
        assert search_rows.count(session, "kind:outpaint") == 16  # the 14 outpaints and both upscales made from them
        # a column sort wins over the query's own order; without one the query's sort: applies
        assert [r.seed for r in search_rows.page(session, "-kind:outpaint", sort="seed", descending=False)] == \
            [101, 202, 303, 404, 1234]
        assert [r.seed for r in search_rows.page(session, "-kind:outpaint sort:-seed")] == [1234, 404, 303, 202, 101]
        row = search_rows.page(session, "id:" + str(ids["chain"][-1]))[0]
        assert (row.model, row.sampler, row.steps, row.cfg, row.licence, row.kind) == \
            ("sd-v1-4", "Euler a", 150, 7.0, "CC0-1.0", "upscale")


def test_check_query_names_the_column():
    listing.check_query('sampler:"Euler a" steps:40..60')
    with pytest.raises(QuerySyntaxError) as caught:
        listing.check_query("city steps:4x")
    assert caught.value.column == 6 and caught.value.token == "steps:4x"


def test_detail_lineage_groups_and_licences(catalogue):
    ids = tui_catalogue.build(catalogue, frozen=False)
    facts = detail.detail(catalogue, ids["chain"][-1])
    found = groups(facts["record"]["lineage"])
    assert [(group.kind, group.count) for group in found] == [("txt2img", 1), ("outpaint", 14), ("upscale", 2)]
    assert facts["pass_renders"] == ids["chain"]
    assert facts["exists"] and facts["c2pa"] == "not signed"
    [licence] = facts["model_licences"]
    assert licence["id"] == "creativeml-openrail-m" and len(licence["restrictions"]) > 5
    detail.file_path(catalogue, ids["chain"][-1]).unlink()
    facts = detail.detail(catalogue, ids["chain"][-1])
    assert not facts["exists"] and facts["c2pa"] == "file missing"
    with pytest.raises(detail.MissingFile, match="missing from the store"):
        detail.file_path(catalogue, ids["chain"][-1])


def test_tag_and_rerun_settings(catalogue):
    ids = tui_catalogue.build(catalogue, frozen=False)
    single = ids["singles"][1]
    assert tagging.tag(catalogue, [single], *tagging.split_words("night storm")) == {single: ["night", "storm"]}
    assert tagging.tag(catalogue, [single], *tagging.split_words("-night")) == {single: ["storm"]}
    with pytest.raises(BadInput, match="no tags given"):
        tagging.split_words("   ")
    other = ids["singles"][0]  # tagged "best" by the fixture
    assert tagging.tag(catalogue, [single, other]) == {single: ["storm"], other: ["best"]}  # nothing given: read
    with pytest.raises(NotFound):
        tagging.tag(catalogue, [single, 999_999], add=["late"])
    assert tagging.tag(catalogue, [single]) == {single: ["storm"]}  # an unknown id changes nothing
    settings = rerun.rerun_settings(catalogue, single)
    assert (settings["prompt"], settings["sampler"], settings["steps"], settings["cfg"], settings["licence"]) == \
        ("a lighthouse at night, storm, cinematic", "DPM++ 2M Karras", 30, 7.0, "CC0-1.0")
    with pytest.raises(BadInput, match="txt2img -> outpaint.* outside a recipe run"):
        rerun.rerun_settings(catalogue, ids["chain"][-1])
    assert parameters.a1111_parameters(catalogue, single).splitlines()[-1].startswith(
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 202")
